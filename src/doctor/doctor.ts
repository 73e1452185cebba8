/**
 * `conductor doctor`: every check of what conductor depends on, with or without a config. The
 * agents the config uses (codex when there is none) block; the other agent is information.
 */
import os from "node:os";
import path from "node:path";
import type { AgentEnv } from "../agents/provider.js";
import type { Plan } from "../planner/types.js";
import { type AgentTarget, agentChecks } from "../preflight/agents.js";
import { type CheckResult, result } from "../preflight/check.js";
import { firstProgramChecks } from "../preflight/first-programs.js";
import { agentTargets } from "../preflight/preflight.js";
import { seedCacheCheck } from "../preflight/seed-cache.js";
import { diskSpaceCheck, runStateCheck, workspacesFolderCheck } from "../preflight/workspaces.js";
import {
  type AgentConfig,
  type AgentKind,
  DEFAULT_AGENT_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_SANDBOX,
} from "../schema/config.js";
import { portRegistryCheck } from "./ports.js";
import { excludeCheck, leftoverProcessesCheck, staleWorktreesCheck } from "./repository.js";
import { ghCheck, gitCheck, nodeCheck, reaperCheck } from "./system.js";

/** What doctor knows about where it runs. */
export interface DoctorContext {
  homeDir: string;
  env: AgentEnv;
  /** The repository's main checkout; undefined outside a repository. */
  root: string | undefined;
  /** The plan of the config; undefined without a usable config. */
  plan: Plan | undefined;
  /** The config's row: found and valid, missing, or broken. */
  config: CheckResult;
}

/** Every check, in the order the table shows them; independent checks run at once. */
export async function doctorChecks(context: DoctorContext): Promise<CheckResult[]> {
  const { plan, root, env } = context;
  const used = new Set<AgentKind>(
    plan ? plan.workspaces.map((workspace) => workspace.agent.kind) : ["codex"],
  );
  const planned = plan ? agentTargets(plan.workspaces, env) : [];
  const agents = (["codex", "claude"] as const).map(async (kind) => {
    const targets = planned.filter((target) => target.settings.kind === kind);
    const checks = (
      await Promise.all(
        (targets.length > 0 ? targets : [defaultTarget(kind, env)]).map(agentChecks),
      )
    ).flat();
    return used.has(kind) ? checks : checks.map(notUsed);
  });
  const workspacesDir =
    plan?.workspacesDir ?? path.join(context.homeDir, ".conductor", "workspaces");
  const groups = await Promise.all([
    [nodeCheck()],
    gitCheck().then((check) => [check]),
    [context.config],
    ...agents,
    plan ? firstProgramChecks(plan, env) : [],
    ghCheck(env).then((check) => [check]),
    [reaperCheck()],
    portRegistryCheck(context.homeDir).then((check) => [check]),
    workspacesFolderCheck(workspacesDir).then((check) => [check]),
    plan ? seedCacheCheck(plan, context.homeDir, env).then((check) => (check ? [check] : [])) : [],
    plan
      ? diskSpaceCheck({
          dir: plan.workspacesDir,
          root: plan.repo.root,
          commit: plan.base.commit,
          count: plan.workspaces.length,
        }).then((check) => [check])
      : [],
    root === undefined
      ? [result("repository", "info", "not inside a git repository: repository checks skipped")]
      : Promise.all([
          runStateCheck(root),
          staleWorktreesCheck(root),
          leftoverProcessesCheck(root),
          excludeCheck(root),
        ]),
  ]);
  return groups.flat();
}

/** Whether any check blocks conductor. */
export function blocks(checks: readonly CheckResult[]): boolean {
  return checks.some((check) => check.status === "fail");
}

/** A failing check of an agent the config does not use is worth knowing, not blocking. */
function notUsed(check: CheckResult): CheckResult {
  if (check.status !== "fail") return check;
  return { ...check, status: "info", detail: `${check.detail} (not used by this config)` };
}

function defaultTarget(kind: AgentKind, env: AgentEnv): AgentTarget {
  const settings: AgentConfig = {
    kind,
    model: undefined,
    sandbox: DEFAULT_SANDBOX,
    args: [],
    config: {},
    command: undefined,
    timeoutMs: DEFAULT_AGENT_TIMEOUT_MS,
    connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: undefined,
  };
  return { settings, env: { HOME: os.homedir(), ...env } };
}
