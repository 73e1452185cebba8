// `npm run bench`: runs every benchmark, prints the results table and writes bench/results/.
// Each figure is a ratio against a baseline measured in the same run, median of RUNS runs.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  CONCURRENCY,
  CONDUCTOR_MAIN,
  emptyTrash,
  log,
  machineInfo,
  PROJECT_ROOT,
  QUICK,
  RUNS,
} from "./lib.mjs";

/** The benchmarks, in the order of the table. */
const BENCHMARKS = ["overhead", "orchestration", "worktree", "codex", "config-scale", "memory"];
BENCHMARKS.push("conflicts"); // the conflict forecast of issue 12 (bench/conflicts.mjs)
BENCHMARKS.push("seed"); // workspaces.seed against npm ci, issue 16 part 2 (bench/seed.mjs)
BENCHMARKS.push("ui"); // the review page of issue 15 in headless Chromium (bench/ui.mjs)

const only = process.env.BENCH_ONLY?.split(",")
  .map((name) => name.trim())
  .filter(Boolean);
const selected = only ? BENCHMARKS.filter((name) => only.includes(name)) : BENCHMARKS;

if (!existsSync(CONDUCTOR_MAIN)) {
  process.stderr.write(`bench: ${CONDUCTOR_MAIN} is missing; build first (npm run build)\n`);
  process.exit(2);
}
if (RUNS < 5 && !QUICK) {
  process.stderr.write(
    "bench: published figures need at least 5 runs; use BENCH_QUICK=1 for fewer\n",
  );
  process.exit(2);
}

const machine = machineInfo();
log(
  `${machine.cpus} CPUs, node ${machine.node}, git ${machine.git}, ${RUNS} runs per figure${QUICK ? " (quick: not published)" : ""}`,
);
const rows = [];
const failures = [];
for (const name of selected) {
  const started = Date.now();
  try {
    const benchmark = await import(`./${name}.mjs`);
    rows.push(...(await benchmark.run({ runs: RUNS })));
  } catch (error) {
    // A benchmark that breaks is reported, and the others still run; rows it measured before
    // it broke (error.rows) are kept.
    if (Array.isArray(error?.rows)) rows.push(...error.rows);
    failures.push({ benchmark: name, error: String(error?.stack ?? error) });
    log(`${name} failed: ${error?.stack ?? error}`);
  }
  log(`${name} took ${Math.round((Date.now() - started) / 1000)} s`);
}

emptyTrash();

// The machine is shared: the load at the end says how busy it was while the figures were taken.
machine.loadAverage1mAtEnd = Math.round(os.loadavg()[0] * 100) / 100;
const results = {
  formatVersion: 1,
  quick: QUICK,
  runsPerFigure: RUNS,
  concurrency: CONCURRENCY,
  machine,
  benchmarks: rows,
  errors: failures,
};
const markdown = renderMarkdown(results);
process.stdout.write(markdown);

// Quick (development) results never overwrite the published ones.
const dir = path.join(PROJECT_ROOT, "bench", "results");
const stem = QUICK || only ? "quick" : "latest";
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, `${stem}.md`), markdown);
writeFileSync(path.join(dir, `${stem}.json`), `${JSON.stringify(results, null, 2)}\n`);
log(`wrote bench/results/${stem}.md and bench/results/${stem}.json`);
// A missed target is a measurement, not an error: exit 0 (but not when a benchmark broke).
process.exitCode = failures.length > 0 ? 1 : 0;

/** The results as Markdown: the table, the misses spelled out, then each row's notes. */
function renderMarkdown({ machine: m, benchmarks, errors }) {
  const formatValue = (value, unit) => (unit === "ms" ? `${value} ms` : `${value} ${unit}`);
  const lines = [
    `# conductor benchmark results`,
    "",
    `${m.date.slice(0, 10)} · ${m.cpus} CPUs (${m.cpuModel}) · load ${m.loadAverage1m} → ${m.loadAverage1mAtEnd} · node ${m.node} · git ${m.git} · codex ${m.codex} · median of ${RUNS} runs${QUICK ? " · QUICK MODE (not for publishing)" : ""}`,
    "",
    "| benchmark | conductor | baseline | ratio | target | result |",
    "|---|---:|---:|---:|---|---|",
  ];
  for (const row of benchmarks) {
    const verdict = row.pass === null ? "info" : row.pass ? "pass" : "**MISS**";
    lines.push(
      `| ${row.benchmark} | ${formatValue(row.conductor, row.unit)} | ${formatValue(row.baseline, row.unit)} (${row.baselineLabel}) | ${row.ratio.toFixed(2)} | ${row.target ?? "-"} | ${verdict} |`,
    );
  }
  lines.push(
    "",
    "conductor and baseline: medians; ratio: median over the rounds of conductor ÷ baseline, each round measuring both back to back.",
    "",
  );
  const misses = benchmarks.filter((row) => row.pass === false);
  if (misses.length > 0) {
    lines.push(`**${misses.length} target(s) missed:**`, "");
    for (const row of misses)
      lines.push(
        `- ${row.benchmark}: ${row.target} not met (ratio ${row.ratio.toFixed(2)}, conductor ${formatValue(row.conductor, row.unit)})`,
      );
  } else if (benchmarks.length > 0) {
    lines.push("Every target met.");
  }
  for (const error of errors)
    lines.push("", `**${error.benchmark} did not run:** ${error.error.split("\n")[0]}`);
  const noted = benchmarks.filter((row) => row.notes.length > 0);
  if (noted.length > 0) {
    lines.push("", "Notes:", "");
    for (const row of noted) for (const note of row.notes) lines.push(`- ${row.id}: ${note}`);
  }
  return `${lines.join("\n")}\n`;
}
