import { appendFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { runProcess } from "../../process/run.js";
import { scriptFailure } from "../failure.js";
import type { StepContext, StepOutcome } from "./context.js";

/** Runs the workspace's setup or check script in the worktree, logging to its own file. */
export async function scriptStep(ctx: StepContext, step: "setup" | "check"): Promise<StepOutcome> {
  const script = ctx.workspace.scripts[step];
  if (script === undefined) return { status: "skipped" };
  const logFile = ctx.paths.logFile(ctx.workspace.name, step);
  await mkdir(path.dirname(logFile), { recursive: true });
  await appendFile(logFile, `${ctx.rerun ? "\n" : ""}$ ${script}\n`);
  const ended = await runProcess({
    file: script,
    shell: true,
    cwd: ctx.workspace.path,
    env: ctx.env(),
    signal: ctx.signal,
    timeoutMs: ctx.workspace.scriptTimeoutMs,
    logFile,
    redactor: ctx.redactor(),
  });
  const failure = scriptFailure(ended, step, logFile);
  // Only a check that ran to its end has a verdict; a cancelled or killed one has none.
  const decided = ended.reason === "exited" || ended.reason === "exit-non-zero";
  const result = step === "check" && decided ? { step, passed: failure === undefined } : undefined;
  if (failure) return { status: "failed", failure, ...(result ? { result } : {}) };
  return { status: "succeeded", ...(result ? { result } : {}) };
}
