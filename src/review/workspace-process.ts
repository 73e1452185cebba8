import type { FoundWorkspace } from "../executor/find-workspace.js";
import { type PortReservation, reservePorts } from "../executor/ports.js";
import type { RunState } from "../executor/types.js";
import { workspaceEnv } from "../executor/workspace-runner.js";
import type { Workspace } from "../planner/types.js";
import { MAX_TIMER_MS } from "../process/run.js";
import { secretsOfCopiedEnvFiles } from "../secrets/env-file.js";
import { secretsInEnvironment } from "../secrets/names.js";
import { Redactor } from "../secrets/redact.js";

/** The environment `serve` and `archive` give a workspace's scripts: the same as during the run. */
export function scriptEnv(found: FoundWorkspace, port: number | undefined): Record<string, string> {
  return workspaceEnv(found.workspace, found.run.runId, port);
}

/**
 * Redacts what the run's logs redact: secret-looking variables of conductor's and the workspace's
 * environment, and every value of the env files copied into the worktree (as the main checkout
 * has them, and as they are in the worktree now).
 */
export function scriptRedactor(found: FoundWorkspace): Promise<Redactor> {
  return redactorOf(found.run, [{ workspace: found.workspace, copied: found.state.copied }]);
}

/**
 * The run's whole secret set, as its workspaces' logs are redacted ({@link scriptRedactor}): the
 * environment's, every workspace's env, and the values of the env files the run copied, as the
 * main checkout and each worktree have them. For what is not one workspace's: gh's output in
 * `checks`, `merge` and `pr`.
 */
export function runRedactor(run: RunState): Promise<Redactor> {
  return redactorOf(
    run,
    run.plan.workspaces.map((workspace) => ({
      workspace,
      copied: run.workspaces[workspace.name]?.copied ?? [],
    })),
  );
}

async function redactorOf(
  run: RunState,
  workspaces: readonly { workspace: Workspace; copied: readonly string[] }[],
): Promise<Redactor> {
  const root = run.plan.repo.root;
  const secrets = [...secretsInEnvironment(process.env)];
  for (const { workspace, copied } of workspaces) {
    secrets.push(
      ...secretsInEnvironment(workspace.env),
      ...(await secretsOfCopiedEnvFiles(root, copied)),
      ...(await secretsOfCopiedEnvFiles(workspace.path, copied)),
    );
  }
  return new Redactor(secrets);
}

/** Long-lived scripts (a dev server) run without a timeout: the longest a timer takes. */
export const NO_TIMEOUT_MS = MAX_TIMER_MS;

/**
 * The workspace's port block for `serve`, `shell` and `exec`: the block reserved for its worktree
 * during the run when it still has one (the port the reviewer saw), else a free one.
 */
export function reserveWorkspacePorts(
  found: FoundWorkspace,
  homeDir: string,
): Promise<PortReservation> {
  const { workspace, run } = found;
  return reservePorts(homeDir, {
    count: run.plan.portsPerWorkspace,
    preferredIndex: workspace.portBlock,
    worktree: workspace.path,
    workspace: workspace.name,
    runId: run.runId,
  });
}
