import { open } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../errors.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { RunPaths } from "../executor/run-store.js";
import { shellCommand } from "../hint/shell-quote.js";
import { MAX_TIMER_MS, runProcess } from "../process/run.js";
import { fileSize } from "../review/follow-file.js";
import { scriptRedactor } from "../review/workspace-process.js";

/**
 * The page's actions are the CLI's own commands, run as child processes: the same functions,
 * safety checks, refusals and error lines as in a terminal, by construction, and a long action
 * (a follow-up turn, a dev server) lives in its own process group that Ctrl-C of the page ends
 * like any other script. The page never decides what is safe; the command does.
 */

/** The actions the page offers (each one CLI command). */
export const ACTIONS = [
  "continue",
  "review",
  "fix-review",
  "archive",
  "pr",
  "merge",
  "spotlight",
  "spotlight-off",
] as const;
/** One of {@link ACTIONS}. */
export type ActionName = (typeof ACTIONS)[number];

/** What the page sends with an action. */
export interface ActionInput {
  /** Instructions of `continue`. */
  text?: string | undefined;
  /** `--force` (archive, merge, pr): only after the page showed the refusal. */
  force?: boolean | undefined;
}

/** How to start the CLI: node and the bundled entry point, in the repository of the run. */
export interface CliLauncher {
  node: string;
  script: string;
  /** Added to the environment of every command (tests give a private HOME). */
  env?: Readonly<Record<string, string>>;
}

/** What one action did: the command as a person would type it, and what it printed. */
export interface ActionResult {
  ok: boolean;
  exitCode: number | undefined;
  command: string;
  output: string;
}

/** The CLI arguments of an action, after the global options. Names and text follow `--`. */
export function actionArgs(
  action: ActionName,
  name: string,
  runId: string,
  input: ActionInput,
): string[] {
  const force = input.force === true ? ["--force"] : [];
  switch (action) {
    case "continue": {
      const text = input.text?.trim() ?? "";
      if (text === "") throw new UsageError("continue needs instructions for the agent");
      return ["continue", "--run", runId, "--output", "plain", "--", name, text];
    }
    case "review":
      return ["review", "--run", runId, "--", name];
    case "fix-review":
      return ["continue", "--fix-review", "--run", runId, "--output", "plain", "--", name];
    case "spotlight":
      return ["spotlight", "--run", runId, "--", name];
    case "spotlight-off":
      // Spotlight is one per repository: --off ends whichever workspace it shows.
      return ["spotlight", "--off", ...force];
    case "archive":
      return ["archive", "--run", runId, ...force, "--", name];
    case "pr":
      return ["pr", "--run", runId, ...force, "--", name];
    case "merge":
      return ["merge", "--run", runId, ...force, "--", name];
  }
}

/** The global options that make a child CLI act on the run's repository and config file. */
export function globalArgs(found: FoundWorkspace): string[] {
  const { plan } = found.run;
  const config = plan.configFile;
  return [
    "-C",
    plan.repo.root,
    ...(config === undefined || config === "conductor.yaml" ? [] : ["-c", config]),
  ];
}

/** Runs `conductor <args>` for a workspace; its output is kept in the workspace's `ui.log`. */
export async function runCli(
  launcher: CliLauncher,
  found: FoundWorkspace,
  args: readonly string[],
  options: { signal: AbortSignal; logName?: string; timeoutMs?: number; onStarted?: () => void },
): Promise<ActionResult> {
  const all = [...globalArgs(found), ...args];
  const paths = new RunPaths(found.run.plan.repo.root, found.run.runId);
  const logFile = path.join(paths.workspaceDir(found.workspace.name), options.logName ?? "ui.log");
  const before = await fileSize(logFile);
  const outcome = await runProcess({
    file: launcher.node,
    args: [launcher.script, ...all],
    cwd: found.run.plan.repo.root,
    env: { ...launcher.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? MAX_TIMER_MS,
    logFile,
    redactor: await scriptRedactor(found),
  });
  const output = await readFrom(logFile, before);
  const exitCode =
    outcome.reason === "exited" || outcome.reason === "exit-non-zero"
      ? outcome.exitCode
      : undefined;
  return { ok: exitCode === 0, exitCode, command: shellCommand(["conductor", ...all]), output };
}

/** Bytes of an action's output kept for the page; the log file keeps all of it. */
export const MAX_ACTION_OUTPUT_BYTES = 1024 * 1024;

/**
 * What a file holds from byte `offset` on: at most `maxBytes` of it, then a line that says it
 * was cut. An action's log holds what an agent or a run script printed, which can be more than a
 * string can hold.
 */
export async function readFrom(
  file: string,
  offset: number,
  maxBytes = MAX_ACTION_OUTPUT_BYTES,
): Promise<string> {
  const handle = await open(file, "r").catch(() => undefined);
  if (handle === undefined) return "";
  try {
    const { size } = await handle.stat();
    const length = Math.max(0, size - offset);
    const buffer = Buffer.alloc(Math.min(length, maxBytes));
    await handle.read(buffer, 0, buffer.length, offset);
    const text = buffer.toString("utf8");
    if (length <= maxBytes) return text;
    return `${text}\n… (truncated: ${length - maxBytes} more bytes; the whole output is in ${file})\n`;
  } finally {
    await handle.close();
  }
}
