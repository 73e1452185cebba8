import { appendFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { gitMessage } from "../../git/worktree.js";
import { runProcess } from "../../process/run.js";
import { scriptFailure } from "../failure.js";
import type { Failure } from "../types.js";
import {
  type AgentBaseline,
  CHECK_SCRIPT,
  takeBaseline,
  verifyAgentResult,
} from "../verify-agent-result.js";
import type { StepContext, StepOutcome } from "./context.js";

/**
 * A script may print thousands of lines; each would be an event on disk and for every reporter.
 * Live views get its latest line at most this often instead (the log has every line).
 */
const OUTPUT_INTERVAL_MS = 250;

/** Longest line an output event carries; views show far less. */
const MAX_OUTPUT_CHARS = 500;

/** Runs the workspace's setup or check script in the worktree, logging to its own file. */
export async function scriptStep(ctx: StepContext, step: "setup" | "check"): Promise<StepOutcome> {
  const script = ctx.workspace.scripts[step];
  if (script === undefined) return { status: "skipped" };
  // Without a seed script of its own, the setup script is the seed script: it ran once for this
  // key in a fresh checkout, and running it again here would undo the seeding (npm ci deletes
  // node_modules first).
  if (step === "setup" && ctx.plan.seed?.script === undefined && ctx.state().seed !== undefined)
    return { status: "skipped" };
  const logFile = ctx.paths.logFile(ctx.workspace.name, step);
  await mkdir(path.dirname(logFile), { recursive: true });
  await appendFile(logFile, `${ctx.rerun ? "\n" : ""}$ ${script}\n`);
  // The check runs the agent's code (its tests) with a shell in the same repository: what it did
  // there is verified as the agent's step is, and a refusal commits nothing.
  let baseline: AgentBaseline | undefined;
  if (step === "check") {
    try {
      baseline = await takeBaseline(ctx);
    } catch (error) {
      const message = `could not read the repository before the check: ${gitMessage(error)}`;
      return { status: "failed", failure: { reason: "git-error", step, message } };
    }
  }
  const output = latestLine((line) =>
    ctx.emit({ type: "step.output", workspace: ctx.workspace.name, step, line }),
  );
  const running = runProcess({
    file: script,
    shell: true,
    cwd: ctx.workspace.path,
    env: ctx.env(),
    signal: ctx.signal,
    timeoutMs: ctx.workspace.scriptTimeoutMs,
    logFile,
    redactor: ctx.redactor(),
    onStdoutLine: output.push,
  }).finally(output.stop);
  // Verified however the script's run ended, also when conductor failed around it (its log could
  // not be written): a failure of that kind still commits the work, the check's doing unseen.
  const ran = await running.then(
    (ended) => ({ ended }),
    (error: unknown) => ({ error }),
  );
  const refused = baseline === undefined ? undefined : await verifiedCheck(ctx, baseline);
  if (refused !== undefined) return { status: "failed", failure: refused };
  if ("error" in ran) throw ran.error;
  const { ended } = ran;
  const failure = scriptFailure(ended, step, logFile);
  // Only a check that ran to its end has a verdict; a cancelled or killed one has none.
  const decided = ended.reason === "exited" || ended.reason === "exit-non-zero";
  const result = step === "check" && decided ? { step, passed: failure === undefined } : undefined;
  if (failure) return { status: "failed", failure, ...(result ? { result } : {}) };
  return { status: "succeeded", ...(result ? { result } : {}) };
}

/** What verifying the check script's doing refused, if anything; one that cannot run refuses. */
async function verifiedCheck(
  ctx: StepContext,
  baseline: AgentBaseline,
): Promise<Failure | undefined> {
  try {
    const { failure } = await verifyAgentResult(ctx, baseline, CHECK_SCRIPT);
    if (failure === undefined || failure.message.includes("nothing was committed")) return failure;
    // Unlike a check that failed, a refused one has no work committed: said once, at the end.
    return { ...failure, message: `${failure.message}; nothing was committed` };
  } catch (error) {
    return {
      reason: "integrity",
      step: "check",
      message: `could not verify what the check script did to the repository: ${gitMessage(error)}; nothing was committed`,
      logPath: ctx.paths.logFile(ctx.workspace.name, "check"),
    };
  }
}

/** Hands on the latest non-empty line at most every {@link OUTPUT_INTERVAL_MS}. */
function latestLine(show: (line: string) => void): { push(line: string): void; stop(): void } {
  let latest: string | undefined;
  let shownAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (latest === undefined) return;
    show(latest);
    latest = undefined;
    shownAt = Date.now();
  };
  return {
    push(line) {
      const text = line.trim();
      if (text === "") return;
      latest = text.slice(0, MAX_OUTPUT_CHARS);
      const wait = OUTPUT_INTERVAL_MS - (Date.now() - shownAt);
      if (wait <= 0) flush();
      else timer ??= setTimeout(flush, wait);
    },
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
