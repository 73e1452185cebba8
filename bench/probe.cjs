// Preloaded into the measured conductor process only (`node --require bench/probe.cjs …`): when
// the process exits it appends its own CPU time (user + system, without its children's) to
// $BENCH_PROBE_FILE, and its two parts: the system (kernel) time is what the file system's state
// moves most (see HISTORY's twenty-ninth pass). Exact, unlike sampling /proc, which misses the
// last moments before exit.
const { appendFileSync } = require("node:fs");

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  process.once("exit", () => {
    const { user, system } = process.cpuUsage();
    appendFileSync(
      file,
      `${JSON.stringify({ pid: process.pid, cpuMs: (user + system) / 1000, userMs: user / 1000, systemMs: system / 1000 })}\n`,
    );
  });
}
