// Orchestration overhead: `conductor run` of N workspaces with the command agent doing a fixed
// small edit, against the same work done by hand: `git worktree add` + copy `.env.local` + the
// same command + `git commit`, N of them through `xargs -P <concurrency>`.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  ADD_WORKTREE_SH,
  benchEnv,
  CONCURRENCY,
  committedBranches,
  countRetries,
  createRepo,
  discard,
  freshHome,
  interleave,
  log,
  median,
  medianBreakdown,
  removeDir,
  resetRepo,
  resultRow,
  runBreakdown,
  sampleProcess,
  tempDir,
  timed,
  timedConductor,
  writeConfig,
} from "./lib.mjs";

/** The agent's work: append the prompt to a tracked file. Same command line for both contenders. */
export const EDIT = `printf '%s\\n' "$CONDUCTOR_PROMPT" >> NOTES.md`;

/** One workspace by hand (the add retried on git's lock errors, see ADD_WORKTREE_SH). */
export const ONE_WORKSPACE_SH = `#!/bin/sh
set -e
${ADD_WORKTREE_SH}
i=$1
ws="$BENCH_WS/task-$i"
add_worktree "$BENCH_REPO" "bench/task-$i" "$ws" "$BENCH_BASE"
cp "$BENCH_REPO/.env.local" "$ws/.env.local"
cd "$ws"
CONDUCTOR_PROMPT="Add note $i" sh -c "$BENCH_EDIT" > "$BENCH_LOGS/task-$i.log" 2>&1
git add --all -- .
git commit --quiet --no-verify -m "task-$i: Add note $i"
`;

/** A small but real repository: a few dozen source files, a README, an ignored .env.local. */
export function smallRepoFiles() {
  const files = { "README.md": "# bench\n", "NOTES.md": "# notes\n" };
  for (let i = 0; i < 50; i++) files[`src/module-${i}.js`] = `export const value${i} = ${i};\n`;
  return files;
}

export async function run({ runs }) {
  const rows = [];
  for (const n of [8, 32]) rows.push(await measure(n, runs));
  return rows;
}

async function measure(n, runs) {
  const base = tempDir(`orchestration-${n}`);
  const repo = path.join(base, "repo");
  const commit = createRepo(repo, smallRepoFiles(), {
    ".env.local": "API_TOKEN=bench-secret-value\n",
  });
  const conductorWs = path.join(base, "ws-conductor");
  const baselineWs = path.join(base, "ws-baseline");
  const logs = path.join(base, "baseline-logs");
  const config = writeConfig(base, {
    version: 1,
    concurrency: CONCURRENCY,
    workspaces: { dir: conductorWs, copy: [".env.local"] },
    agent: { kind: "command", command: EDIT },
    tasks: Array.from({ length: n }, (_, i) => ({
      id: `task-${i + 1}`,
      prompt: `Add note ${i + 1}`,
    })),
  });
  const script = path.join(base, "one-workspace.sh");
  writeFileSync(script, ONE_WORKSPACE_SH);
  const baselineCommand = `seq 1 ${n} | xargs -P ${CONCURRENCY} -n 1 sh ${script}`;
  const breakdowns = [];
  const cpu = { conductorTree: [], conductorItself: [], baselineTree: [] };
  let lockRetries = 0;

  log(`orchestration: N=${n}, concurrency ${CONCURRENCY}, ${runs} runs each`);
  const samples = await interleave(runs, {
    conductor: {
      prepare: () => resetRepo(repo, conductorWs, ["conductor/"]),
      measure: async () => {
        const home = freshHome(base, "conductor");
        const result = await timedConductor(["-c", config, "run", "--output", "plain"], {
          cwd: repo,
          env: benchEnv(home),
          outFile: path.join(base, "conductor.out"),
          onSpawn: (child) => {
            const stop = sampleProcess(child.pid, 20);
            return new Promise((resolve) => child.once("exit", () => resolve(stop())));
          },
        });
        expectCommits(repo, "conductor/", n);
        breakdowns.push(runBreakdown(repo, result.spawnedAt, result.ms));
        cpu.conductorTree.push(result.cpuMs);
        cpu.conductorItself.push(result.extra.cpuMs);
        return result.ms;
      },
    },
    baseline: {
      prepare: () => {
        resetRepo(repo, baselineWs, ["bench/"]);
        discard(logs);
        mkdirSync(logs, { recursive: true });
      },
      measure: async () => {
        const home = freshHome(base, "baseline");
        const result = await timed("sh", ["-c", baselineCommand], {
          cwd: repo,
          env: benchEnv(home, {
            BENCH_REPO: repo,
            BENCH_WS: baselineWs,
            BENCH_BASE: commit,
            BENCH_LOGS: logs,
            BENCH_EDIT: EDIT,
          }),
          outFile: path.join(base, "baseline.out"),
        });
        expectCommits(repo, "bench/", n);
        cpu.baselineTree.push(result.cpuMs);
        lockRetries += countRetries(logs);
        return result.ms;
      },
    },
  });
  resetRepo(repo, conductorWs, ["conductor/", "bench/"]);
  removeDir(base);
  const breakdown = medianBreakdown(breakdowns);
  return resultRow({
    id: `orchestration-n${n}`,
    benchmark: `Orchestration overhead, N=${n} (concurrency ${CONCURRENCY})`,
    unit: "ms",
    conductor: samples.conductor,
    baseline: samples.baseline,
    baselineLabel: `git worktree add + cp .env.local + command + git commit, xargs -P ${CONCURRENCY}`,
    target: n === 32 ? { on: "ratio", max: 1.1, text: "ratio ≤ 1.10" } : null,
    notes: [
      `conductor: start-up to run.started ${breakdown.startupMs} ms, run ${breakdown.runMs} ms, reports and exit ${breakdown.tailMs} ms (medians)`,
      `CPU time (user + system, medians): conductor's process tree ${median(cpu.conductorTree)} ms, of which the conductor process itself ${median(cpu.conductorItself)} ms; the baseline's process tree ${median(cpu.baselineTree)} ms`,
      `conductor steps (median per workspace): ${Object.entries(breakdown.stepMedianMs)
        .map(([step, ms]) => `${step} ${ms} ms`)
        .join(", ")}`,
      `baseline: ${lockRetries} worktree add retr${lockRetries === 1 ? "y" : "ies"} on git lock errors over ${runs} runs`,
    ],
    extra: {
      breakdown,
      cpuMs: {
        conductorTree: median(cpu.conductorTree),
        conductorItself: median(cpu.conductorItself),
        baselineTree: median(cpu.baselineTree),
      },
      baselineLockRetries: lockRetries,
    },
  });
}

export function expectCommits(repo, prefix, n) {
  const done = committedBranches(repo, prefix);
  if (done !== n)
    throw new Error(`expected ${n} committed branches under ${prefix}, found ${done}`);
}
