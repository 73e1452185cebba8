/** The check of a `command` agent's program: the shell finds the command it starts with. */
import path from "node:path";
import type { AgentEnv } from "../agents/provider.js";
import type { Plan, Workspace } from "../planner/types.js";
import { askProgram } from "../process/quick.js";
import { type CheckResult, result } from "./check.js";

/** Longest wait for the shell's answer; preflight must answer within about a second. */
const ASK_TIMEOUT_MS = 1000;

/** A first word that is a plain command name: no path, no assignment, no shell syntax. */
const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

/**
 * Whether the shell finds the program each distinct `command` agent starts with (by PATH, or as
 * a builtin). Without it every workspace is made, set up and then fails its agent with exit 127.
 * Only asked where nothing before the agent could install the program: a workspace with a setup
 * or seed script (`npm ci`, `pip install`) may bring it, and a path, a relative PATH entry or
 * shell syntax depends on the worktree, which does not exist yet.
 */
export async function commandAgentChecks(
  plan: Pick<Plan, "workspaces" | "seed">,
  baseEnv: AgentEnv,
): Promise<CheckResult[]> {
  const asked = new Map<string, Promise<CheckResult | undefined>>();
  for (const workspace of plan.workspaces) {
    const target = commandTarget(workspace, plan.seed !== undefined, baseEnv);
    if (target === undefined) continue;
    const key = JSON.stringify([target.name, target.env.PATH]);
    if (!asked.has(key)) asked.set(key, findCommand(target.name, target.env));
  }
  const found = await Promise.all(asked.values());
  return found.filter((check): check is CheckResult => check !== undefined);
}

function commandTarget(
  workspace: Workspace,
  seeded: boolean,
  baseEnv: AgentEnv,
): { name: string; env: AgentEnv } | undefined {
  const { agent, scripts } = workspace;
  if (agent.kind !== "command" || agent.command === undefined) return undefined;
  if (scripts.setup !== undefined || seeded) return undefined;
  const name = agent.command.trim().split(/\s+/)[0] ?? "";
  if (!PLAIN_NAME.test(name)) return undefined;
  const env = { ...baseEnv, ...workspace.env };
  const pathEntries = (env.PATH ?? "").split(path.delimiter);
  if (pathEntries.some((entry) => entry === "" || !path.isAbsolute(entry))) return undefined;
  return { name, env };
}

async function findCommand(name: string, env: AgentEnv): Promise<CheckResult | undefined> {
  // `command -v` answers as the agent's own /bin/sh would: builtins, then PATH.
  const answer = await askProgram("/bin/sh", ["-c", 'command -v -- "$1"', "sh", name], {
    env,
    timeoutMs: ASK_TIMEOUT_MS,
  });
  // Not found is a non-zero exit with no output (1 in bash, 127 in dash); a shell that could not
  // answer (not started, timed out) proves nothing.
  if (answer.exitCode === undefined || answer.exitCode === 0 || answer.stdout.trim() !== "")
    return undefined;
  return result(
    "agent command",
    "fail",
    `agent.command starts with ${name}, which is not a shell builtin or on PATH`,
    `install ${name} or put its folder on PATH (or in the task's env), or set agent.command to its full path`,
  );
}
