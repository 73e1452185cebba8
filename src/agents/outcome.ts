import { describeOutcome, type ProcessOutcome } from "../executor/process.js";
import type { AgentOutcome, AgentResult } from "./types.js";

/**
 * The agent outcome for how its process ended. `errorMessage` is the agent's own explanation
 * (from its event stream), preferred over a bare exit code so users see why without opening logs.
 */
export function outcomeOfProcess(
  ended: ProcessOutcome,
  program: string,
  errorMessage: string | undefined,
): AgentOutcome {
  switch (ended.reason) {
    case "exited":
      return errorMessage === undefined
        ? { status: "succeeded" }
        : { status: "failed", reason: "agent-error", message: errorMessage };
    case "exit-non-zero":
      return {
        status: "failed",
        reason: errorMessage === undefined ? "exit-non-zero" : "agent-error",
        message: errorMessage ?? `${program} ${describeOutcome(ended)}`,
        exitCode: ended.exitCode,
      };
    case "signal":
      return {
        status: "failed",
        reason: "signal",
        signal: ended.signal,
        message: `${program} ${describeOutcome(ended)}`,
      };
    case "spawn-error":
      return {
        status: "failed",
        reason: "spawn-error",
        message: `${program} ${describeOutcome(ended)}`,
      };
    case "timeout":
      return { status: "timed-out", timeoutMs: ended.timeoutMs };
    case "cancelled":
      return { status: "cancelled" };
  }
}

/** Prompts longer than this go through stdin: Linux refuses a single argument over 128 KiB. */
export const MAX_PROMPT_ARGUMENT_BYTES = 100 * 1024;

/** The result of an agent that could not even be started. */
export function agentFailedToStart(message: string): AgentResult {
  return {
    outcome: { status: "failed", reason: "spawn-error", message },
    finalMessage: undefined,
    usage: undefined,
    sessionId: undefined,
  };
}
