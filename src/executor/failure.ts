import { rejectsCredentials } from "../agents/rejected-credentials.js";
import type { AgentOutcome } from "../agents/types.js";
import { describeOutcome, type ProcessOutcome } from "../process/outcome.js";
import { formatDuration } from "../schema/duration.js";
import type { Failure, Step } from "./types.js";

/** The failure for a script that did not exit 0, or undefined when it did. */
export function scriptFailure(
  ended: ProcessOutcome,
  step: Step,
  logPath: string,
): Failure | undefined {
  const message = `${step} script ${describeOutcome(ended)}`;
  switch (ended.reason) {
    case "exited":
      return undefined;
    case "exit-non-zero":
      return { reason: "exit-non-zero", step, exitCode: ended.exitCode, message, logPath };
    case "signal":
      return { reason: "signal", step, signal: ended.signal, message, logPath };
    case "timeout":
      return { reason: "timeout", step, timeoutMs: ended.timeoutMs, message, logPath };
    case "spawn-error":
      return { reason: "spawn-error", step, message, logPath };
    case "cancelled":
      return { reason: "cancelled", step, message };
  }
}

/** The failure for an agent run that did not succeed, or undefined when it did. */
export function agentFailure(outcome: AgentOutcome, logPath: string): Failure | undefined {
  const step = "agent";
  switch (outcome.status) {
    case "succeeded":
      return undefined;
    case "timed-out":
      return {
        reason: "timeout",
        step,
        timeoutMs: outcome.timeoutMs,
        message: `the agent ran longer than ${formatDuration(outcome.timeoutMs)} and was stopped`,
        logPath,
      };
    case "cancelled":
      return { reason: "cancelled", step, message: "the agent was cancelled" };
    case "unreachable":
      return {
        reason: "unreachable",
        step,
        ...(outcome.url === undefined ? {} : { url: outcome.url }),
        timeoutMs: outcome.timeoutMs,
        message: `the agent could not reach ${outcome.url ?? "its model provider"} for ${formatDuration(outcome.timeoutMs)} (${outcome.lastError}) and was stopped`,
        logPath,
      };
    case "idle":
      return {
        reason: "idle",
        step,
        idleMs: outcome.idleMs,
        message: `the agent printed nothing for ${formatDuration(outcome.idleMs)} and was stopped`,
        logPath,
      };
    case "failed":
      switch (outcome.reason) {
        case "exit-non-zero":
          return {
            reason: "exit-non-zero",
            step,
            exitCode: outcome.exitCode ?? 1,
            message: outcome.message,
            logPath,
          };
        case "signal":
          return {
            reason: "signal",
            step,
            signal: outcome.signal ?? "unknown",
            message: outcome.message,
            logPath,
          };
        case "spawn-error":
          return { reason: "spawn-error", step, message: outcome.message, logPath };
        case "agent-error":
          return { reason: "agent-error", step, message: outcome.message, logPath };
      }
  }
}

/**
 * Whether trying a failed step again can help (a conflict or a cancel will not go away, and an
 * unreachable provider would only cost another connect timeout; after an integrity failure the
 * repository needs a person's look before any agent runs there again).
 */
export function isRetryable(failure: Failure): boolean {
  return (
    failure.reason !== "conflict" &&
    failure.reason !== "unreachable" &&
    failure.reason !== "integrity" &&
    failure.reason !== "cancelled" &&
    failure.reason !== "budget" &&
    failure.reason !== "dependency-failed"
  );
}

/**
 * Whether an agent failed because its model provider refused its credentials (a wrong, expired
 * or revoked key): every workspace with the same agent would fail the same way.
 */
export function credentialsRejected(failure: Failure): boolean {
  return (
    failure.step === "agent" &&
    failure.reason === "agent-error" &&
    rejectsCredentials(failure.message)
  );
}
