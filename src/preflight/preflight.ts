/**
 * Preflight: before a run creates anything, check that every agent kind the plan uses can work
 * (program found, a version conductor reads, credentials) and that the workspaces folder takes
 * the worktrees. Independent checks run at once; nothing here writes anything.
 */
import { existsSync } from "node:fs";
import os from "node:os";
import type { AgentEnv } from "../agents/provider.js";
import type { Plan, Workspace } from "../planner/types.js";
import { type AgentTarget, agentChecks } from "./agents.js";
import type { CheckResult } from "./check.js";
import { firstProgramChecks } from "./first-programs.js";
import { portRegistryProblem } from "./port-registry.js";
import { seedCacheCheck } from "./seed-cache.js";
import { diskSpaceCheck, runStateCheck, workspacesFolderCheck } from "./workspaces.js";

/** Every check of a plan, in a stable order. */
export async function preflightChecks(
  plan: Plan,
  baseEnv: AgentEnv = process.env,
  homeDir = os.homedir(),
): Promise<CheckResult[]> {
  const toMake = plan.workspaces.filter((workspace) => !existsSync(workspace.path)).length;
  const groups = await Promise.all([
    ...agentTargets(plan.workspaces, baseEnv).map((target) => agentChecks(target)),
    firstProgramChecks(plan, baseEnv),
    workspacesFolderCheck(plan.workspacesDir).then((check) => [check]),
    runStateCheck(plan.repo.root).then((check) => [check]),
    seedCacheCheck(plan, homeDir, baseEnv).then((check) => (check ? [check] : [])),
    portRegistryProblem(homeDir).then((check) => (check ? [check] : [])),
    diskSpaceCheck({
      dir: plan.workspacesDir,
      root: plan.repo.root,
      commit: plan.base.commit,
      count: toMake,
    }).then((check) => [check]),
  ]);
  return groups.flat();
}

/** The blocking problems among check results, each once. */
export function problemsOf(results: readonly CheckResult[]): CheckResult[] {
  const seen = new Set<string>();
  return results.filter((check) => {
    if (check.status !== "fail") return false;
    const key = `${check.check}\n${check.detail}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The distinct agents of a plan, each with the environment its workspaces give it (task `env`
 * may set CODEX_HOME or a key). Workspace-specific CONDUCTOR_* values do not make an agent distinct.
 */
export function agentTargets(workspaces: readonly Workspace[], baseEnv: AgentEnv): AgentTarget[] {
  const targets = new Map<string, AgentTarget>();
  for (const workspace of workspaces) {
    if (workspace.agent.kind === "command") continue;
    const env = Object.fromEntries(
      Object.entries(workspace.env).filter(([name]) => !name.startsWith("CONDUCTOR_")),
    );
    const { kind, command, args, config } = workspace.agent;
    const key = JSON.stringify([kind, command, args, config, env]);
    if (!targets.has(key))
      targets.set(key, { settings: workspace.agent, env: { ...baseEnv, ...env } });
  }
  return [...targets.values()];
}
