import { UsageError } from "../errors.js";
import type { WorkspaceState } from "../executor/types.js";

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
export function defaultLogStep(state: WorkspaceState): LogStep {
  const step = state.failure?.step ?? state.step;
  return step === "seed" || step === "setup" || step === "agent" || step === "check"
    ? step
    : "agent";
}
