import { unreachable } from "../errors.js";
import type { ProcessOutcome } from "../executor/process.js";
import { formatDuration } from "../schema/duration.js";

/** How a script ended, for people: `exited with code 2`, `was cancelled`. */
export function describeOutcome(outcome: ProcessOutcome): string {
  switch (outcome.reason) {
    case "exited":
      return "succeeded";
    case "exit-non-zero":
      return `exited with code ${outcome.exitCode}`;
    case "signal":
      return `was killed by ${outcome.signal}`;
    case "timeout":
      return `ran longer than ${formatDuration(outcome.timeoutMs)} and was stopped`;
    case "cancelled":
      return "was cancelled";
    case "spawn-error":
      return `could not start: ${outcome.message}`;
    default:
      return unreachable(outcome);
  }
}
