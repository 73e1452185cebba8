/**
 * Milliseconds on a clock that only goes forward, for durations and ages within one process.
 * `performance.now()` is such a clock too, but its first use loads node:perf_hooks, which cost a
 * run 2.7 ms at start-up: once conductor has set a V8 flag (src/cli/main.ts), Node compiles its own
 * modules without their code cache.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1000 + nanoseconds / 1e6;
}
