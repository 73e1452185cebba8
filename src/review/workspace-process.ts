import { readFile } from "node:fs/promises";
import path from "node:path";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { Redactor, secretsInEnvironment, valuesInEnvFile } from "../executor/redact.js";
import { workspaceEnv } from "../executor/workspace-runner.js";

/** The environment `serve` and `archive` give a workspace's scripts: the same as during the run. */
export function scriptEnv(found: FoundWorkspace, port: number | undefined): Record<string, string> {
  return workspaceEnv(found.workspace, found.run.runId, port);
}

/**
 * Redacts what the run's logs redact: secret-looking variables of conductor's and the workspace's
 * environment, and every value of the env files copied into the worktree.
 */
export async function scriptRedactor(found: FoundWorkspace): Promise<Redactor> {
  const secrets = [
    ...secretsInEnvironment(process.env),
    ...secretsInEnvironment(found.workspace.env),
  ];
  for (const file of found.state.copied.filter((relative) => /(^|\/)\.env/.test(relative))) {
    const text = await readFile(path.join(found.workspace.path, file), "utf8").catch(() => "");
    secrets.push(...valuesInEnvFile(text));
  }
  return new Redactor(secrets);
}

/** Longest delay a Node timer takes; longer ones fire at once. Long-lived scripts use it. */
export const NO_TIMEOUT_MS = 2 ** 31 - 1;
