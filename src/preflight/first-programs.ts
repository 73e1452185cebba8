/**
 * Checks that the shell finds the program a workspace starts first: its setup (or seed) script's,
 * or, with no script before it, its `command` agent's. Without them every workspace is made and
 * then fails with exit 127, one by one (`pnpm` missing for the `pnpm install` init wrote).
 */
import path from "node:path";
import type { AgentEnv } from "../agents/provider.js";
import type { Plan, Workspace } from "../planner/types.js";
import { findOnPath } from "../process/find-on-path.js";
import { askProgram } from "../process/quick.js";
import { type CheckResult, result } from "./check.js";

/** Longest wait for the shell's answer; preflight must answer within about a second. */
const ASK_TIMEOUT_MS = 1000;

/** A first word that is a plain command name: no path, no assignment, no shell syntax. */
const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

/**
 * Reserved words and built-ins every POSIX shell (dash included) has: a script that starts with
 * `set -e` or `cd` needs no shell asked about it.
 */
const SHELL_WORDS = new Set(
  (
    "case do done elif else esac fi for if in then until while break continue eval exec exit " +
    "export readonly return set shift times trap unset alias bg cd command echo false fg getopts " +
    "hash jobs kill printf pwd read test true type ulimit umask unalias wait"
  ).split(" "),
);

/** A program to look for, and what starts it (for the message). */
interface Target {
  check: "setup script" | "agent command";
  setting: string;
  name: string;
  env: AgentEnv;
}

/**
 * Whether the shell finds each distinct first program (by PATH, or as a builtin or keyword).
 * Only the first thing that runs is asked: a setup or seed script (`npm ci`, `pip install`) may
 * install what the agent starts. A path, a relative PATH entry or shell syntax depends on the
 * worktree, which does not exist yet: not asked.
 */
export async function firstProgramChecks(
  plan: Pick<Plan, "workspaces" | "seed">,
  baseEnv: AgentEnv,
): Promise<CheckResult[]> {
  const asked = new Map<string, Promise<CheckResult | undefined>>();
  for (const workspace of plan.workspaces) {
    const target = firstTarget(workspace, plan.seed, baseEnv);
    if (target === undefined) continue;
    const key = JSON.stringify([target.check, target.name, target.env.PATH]);
    if (!asked.has(key)) asked.set(key, findProgram(target));
  }
  const found = await Promise.all(asked.values());
  return found.filter((check): check is CheckResult => check !== undefined);
}

function firstTarget(
  workspace: Workspace,
  seed: Plan["seed"],
  baseEnv: AgentEnv,
): Target | undefined {
  const { agent, scripts } = workspace;
  const seedScript = seed === undefined ? undefined : (seed.script ?? scripts.setup);
  const first =
    seedScript !== undefined
      ? {
          check: "setup script" as const,
          setting: seed?.script ? "workspaces.seed.script" : "scripts.setup",
          text: seedScript,
        }
      : scripts.setup !== undefined
        ? { check: "setup script" as const, setting: "scripts.setup", text: scripts.setup }
        : agent.kind === "command" && agent.command !== undefined
          ? { check: "agent command" as const, setting: "agent.command", text: agent.command }
          : undefined;
  if (first === undefined) return undefined;
  const name = first.text.trim().split(/\s+/)[0] ?? "";
  if (!PLAIN_NAME.test(name)) return undefined;
  const env = { ...baseEnv, ...workspace.env };
  const pathEntries = (env.PATH ?? "").split(path.delimiter);
  if (pathEntries.some((entry) => entry === "" || !path.isAbsolute(entry))) return undefined;
  return { check: first.check, setting: first.setting, name, env };
}

async function findProgram(target: Target): Promise<CheckResult | undefined> {
  // An executable on PATH is found by the shell too (a builtin of the same name only shadows it):
  // no shell is started for it, a fork of conductor at the start of every run.
  if (SHELL_WORDS.has(target.name) || findOnPath(target.name, target.env) !== undefined)
    return undefined;
  // `command -v` answers as the scripts' own /bin/sh would: keywords, builtins, then PATH.
  const answer = await askProgram("/bin/sh", ["-c", 'command -v -- "$1"', "sh", target.name], {
    env: target.env,
    timeoutMs: ASK_TIMEOUT_MS,
  });
  // Not found is a non-zero exit with no output (1 in bash, 127 in dash); a shell that could not
  // answer (not started, timed out) proves nothing.
  if (answer.exitCode === undefined || answer.exitCode === 0 || answer.stdout.trim() !== "")
    return undefined;
  return result(
    target.check,
    "fail",
    `${target.setting} starts with ${target.name}, which is not a shell builtin or on PATH`,
    `install ${target.name} or put its folder on PATH (or in the task's env), or set ${target.setting} to its full path`,
  );
}
