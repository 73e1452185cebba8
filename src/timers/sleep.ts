/**
 * Waits `ms`, or less when `signal` aborts meanwhile; never rejects, so a polling loop checks
 * `signal.aborted` itself and stops at once on Ctrl-C.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
