import { stat } from "node:fs/promises";
import { UsageError } from "../errors.js";
import type { Step, WorkspaceState } from "../executor/types.js";
import { describeFailure } from "../report/format.js";

/** Steps that write a log: the scripts, the agent, and `serve`'s run script. */
export const LOG_STEPS = ["setup", "agent", "check", "archive", "run", "seed"] as const;
/** A step with a log. */
export type LogStep = (typeof LOG_STEPS)[number];

/** Checks `--step`. */
export function parseLogStep(text: string): LogStep {
  if ((LOG_STEPS as readonly string[]).includes(text)) return text as LogStep;
  throw new UsageError(`--step ${text} is not a step with a log: use ${LOG_STEPS.join(", ")}`);
}

/**
 * The log `conductor logs` shows by default: the step where the workspace stopped (or is now)
 * when that step writes a log, else the agent's, which tells most about what happened.
 */
export function defaultLogStep(state: WorkspaceState): LogStep & Step {
  const step = state.failure?.step ?? state.step;
  return step === "seed" || step === "setup" || step === "agent" || step === "check"
    ? step
    : "agent";
}

/**
 * What `conductor logs <workspace>` says when the log it would show by default is empty and the
 * workspace failed: the failure in full, and why there is no log (the step printed nothing, or
 * it never ran because a step that writes no log failed first, such as copy or commit). Every
 * failure's printed next step is `conductor logs <workspace>`, which must answer it. Undefined
 * when the workspace has no failure to tell of.
 */
export function failureWithoutLog(
  state: WorkspaceState,
  shown: LogStep & Step,
): string | undefined {
  const { failure } = state;
  if (failure === undefined) return undefined;
  const shownStep =
    state.steps[shown] === undefined
      ? `its ${shown} step did not run`
      : `its ${shown} step printed nothing`;
  const why =
    failure.step === shown
      ? `${shownStep}.`
      : `the ${failure.step} step writes no log, and ${shownStep}.`;
  return `${state.name} ${state.status}: ${describeFailure(failure, "whole")}\nNo ${shown} log: ${why}\n`;
}

/** What stands at a log's path: a log with output, an empty one, none at all, or not a file. */
export type LogPresence = "output" | "empty" | "missing" | "not-a-file";

/** Looks at a log's path without reading it (a fifo put there must not block `logs`). */
export async function logPresence(file: string): Promise<LogPresence> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) return "missing";
  if (!info.isFile()) return "not-a-file";
  return info.size === 0 ? "empty" : "output";
}

/**
 * Whether the run is known to have written `step`'s log for this workspace: the step's program
 * ran to success (setup, agent and check scripts always log), or its failure points at the log.
 * A step skipped, or stopped before its program started, leaves no log, so no log is no news then.
 */
export function logWasWritten(state: WorkspaceState, step: LogStep): boolean {
  if (step === "setup" || step === "agent" || step === "check") {
    if (state.steps[step]?.status === "succeeded") return true;
  }
  return (
    state.failure?.step === step &&
    "logPath" in state.failure &&
    state.failure.logPath !== undefined
  );
}
