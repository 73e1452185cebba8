import { unreachable } from "../errors.js";
import { formatDuration } from "../schema/duration.js";

/** How a process ended: a closed union in the manner of execa's error flags. */
export type ProcessOutcome =
  | { reason: "exited"; exitCode: 0 }
  | { reason: "exit-non-zero"; exitCode: number }
  | { reason: "signal"; signal: string }
  | { reason: "timeout"; timeoutMs: number }
  | { reason: "cancelled" }
  | { reason: "spawn-error"; message: string };

/** How a program ended, for people, after its name: `exited with code 2`, `was cancelled`. */
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
