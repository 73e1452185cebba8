import { ExitCode } from "../errors.js";
import { killAllProcessGroups } from "../process/groups.js";

/**
 * Turns the first SIGINT/SIGTERM into a graceful stop (the returned signal aborts: nothing new
 * starts, running work is cancelled and recorded), and a second one into an immediate exit that
 * still kills every child process group.
 */
export function interruptOnSignals(onFirst: (signal: NodeJS.Signals) => void): {
  signal: AbortSignal;
  dispose(): void;
} {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      killAllProcessGroups();
      process.exit(ExitCode.Interrupted);
    }
    onFirst(signal);
    controller.abort(signal);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
