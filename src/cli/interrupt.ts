import { ExitCode } from "../errors.js";
import { killEverythingStarted } from "../process/groups.js";

/**
 * The signals that stop conductor. SIGHUP (the terminal was closed) counts like SIGTERM: Node's
 * default for it is to die at once, which would orphan every agent and dev server.
 */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Turns the first SIGINT/SIGTERM/SIGHUP into a graceful stop (the returned signal aborts: nothing
 * new starts, running work is cancelled and recorded), and a second one into an immediate exit
 * that still ends every child process group and conductor's own git children.
 */
export function interruptOnSignals(onFirst: (signal: NodeJS.Signals) => void): {
  signal: AbortSignal;
  dispose(): void;
} {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      killEverythingStarted();
      process.exit(ExitCode.Interrupted);
    }
    onFirst(signal);
    controller.abort(signal);
  };
  for (const name of STOP_SIGNALS) process.on(name, handler);
  return {
    signal: controller.signal,
    dispose() {
      for (const name of STOP_SIGNALS) process.off(name, handler);
    },
  };
}
