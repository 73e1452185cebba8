import type { ProcessOutcome } from "../executor/process.js";
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
        message: errorMessage ?? `${program} exited with code ${ended.exitCode}`,
        exitCode: ended.exitCode,
      };
    case "signal":
      return {
        status: "failed",
        reason: "signal",
        signal: ended.signal,
        message: `${program} was killed by ${ended.signal}`,
      };
    case "spawn-error":
      return {
        status: "failed",
        reason: "spawn-error",
        message: `${program} could not be started: ${ended.message}`,
      };
    case "timeout":
      return { status: "timed-out", timeoutMs: ended.timeoutMs };
    case "cancelled":
      return { status: "cancelled" };
  }
}

/** The result of an agent that could not even be started. */
export function agentFailedToStart(message: string): AgentResult {
  return {
    outcome: { status: "failed", reason: "spawn-error", message },
    finalMessage: undefined,
    usage: undefined,
    sessionId: undefined,
  };
}
