// Worktree cost on a large repository: a committed (and packed) repository of 20,000 files;
// conductor's time per workspace, against bare `git worktree add` per workspace. Both sides
// make one workspace at a time, so the figure is the cost of a workspace, not a parallel speed-up.
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  benchEnv,
  createRepo,
  freshHome,
  interleave,
  log,
  medianBreakdown,
  QUICK,
  removeDir,
  resultRow,
  runBreakdown,
  sh,
  tempDir,
  timed,
  timedConductor,
  writeConfig,
} from "./lib.mjs";

/** Files in the generated repository. */
const FILES = Number(process.env.BENCH_LARGE_FILES ?? (QUICK ? 5000 : 20000));
/** Workspaces per measured run (each run's time is divided by it). */
const WORKSPACES = 4;

/** 20,000 source files of 40–240 bytes in 40 packages × 10 folders, like a mid-size monorepo. */
function largeRepoFiles() {
  const files = { "README.md": "# large\n" };
  for (let i = 0; i < FILES; i++) {
    const pkg = Math.floor(i / 500);
    const dir = Math.floor(i / 50) % 10;
    files[`packages/pkg-${pkg}/src/dir-${dir}/file-${i}.ts`] =
      `export const value${i} = ${i}; // ${"x".repeat(i % 200)}\n`;
  }
  return files;
}

export async function run({ runs }) {
  const base = tempDir("worktree");
  const repo = path.join(base, "repo");
  log(`worktree: generating a repository of ${FILES} files`);
  const commit = createRepo(repo, largeRepoFiles(), {
    ".env.local": "API_TOKEN=bench-secret-value\n",
  });
  sh("git", ["repack", "-adq"], { cwd: repo }); // as a cloned repository would be: one pack
  // Worktrees are removed only at the end: on this kind of machine, deleting 80,000 files makes
  // the file system slow to create files for a while (measured: a bare add took 0.3–0.8 s before
  // and 4.5–5 s of system time right after), which would hit whichever side runs next.
  const folder = (side, round) => path.join(base, `ws-${side}-${round}`);
  const configFor = (round) =>
    writeConfig(path.join(base, `config-${round}`), {
      version: 1,
      concurrency: 1,
      workspaces: {
        dir: folder("conductor", round),
        branch: `conductor/r${round}/{{task}}`,
        copy: [".env.local"],
      },
      agent: { kind: "command", command: "true" },
      tasks: Array.from({ length: WORKSPACES }, (_, i) => ({
        id: `ws-${i + 1}`,
        prompt: "nothing to do",
      })),
    });
  const addsFor = (round) =>
    Array.from(
      { length: WORKSPACES },
      (_, i) =>
        `git worktree add --quiet --no-track -b bench/r${round}/ws-${i + 1} ${folder("baseline", round)}/ws-${i + 1} ${commit}`,
    ).join(" && ");
  // Creating 20,000 files leaves dirty pages behind; each run starts after they are written out,
  // so neither side pays for the other's writeback.
  const settle = () => sh("sync", []);
  const breakdowns = [];

  log(`worktree: ${WORKSPACES} workspaces per run, one at a time, ${runs} runs each`);
  const samples = await interleave(runs, {
    conductor: {
      prepare: settle,
      measure: async (round) => {
        const result = await timedConductor(["-c", configFor(round), "run", "--output", "plain"], {
          cwd: repo,
          env: benchEnv(freshHome(base, "conductor")),
          outFile: path.join(base, "conductor.out"),
        });
        breakdowns.push(runBreakdown(repo, result.spawnedAt, result.ms));
        return result.ms / WORKSPACES;
      },
    },
    baseline: {
      prepare: settle,
      measure: async (round) => {
        const result = await timed("sh", ["-c", addsFor(round)], {
          cwd: repo,
          env: benchEnv(freshHome(base, "baseline")),
          outFile: path.join(base, "baseline.out"),
        });
        return result.ms / WORKSPACES;
      },
    },
  });
  const checkedOut =
    readFileSync(path.join(folder("baseline", 0), "ws-1", "README.md"), "utf8") === "# large\n";
  log("worktree: removing the worktrees");
  removeDir(base);
  if (!checkedOut) throw new Error("the baseline's worktree was not checked out");
  const breakdown = medianBreakdown(breakdowns);
  const steps = breakdown.stepMedianMs;
  return [
    resultRow({
      id: "worktree-large-repo",
      benchmark: `Worktree cost, ${FILES.toLocaleString("en-US")}-file repository: conductor run, per workspace`,
      unit: "ms",
      conductor: samples.conductor,
      baseline: samples.baseline,
      baselineLabel: "bare git worktree add",
      target: { on: "ratio", max: 1.1, text: "ratio ≤ 1.10" },
      notes: [
        `conductor per workspace (medians): worktree step ${steps.worktree} ms, commit step ${steps.commit} ms, copy ${steps.copy} ms, ports ${steps.ports} ms, agent ${steps.agent} ms; start-up ${breakdown.startupMs} ms and exit ${breakdown.tailMs} ms per run of ${WORKSPACES}`,
      ],
      extra: { files: FILES, workspacesPerRun: WORKSPACES, breakdown },
    }),
    resultRow({
      id: "worktree-step-large-repo",
      benchmark: `Worktree cost, ${FILES.toLocaleString("en-US")}-file repository: the worktree step alone`,
      unit: "ms",
      conductor: breakdowns.map((b) => b.stepMedianMs.worktree),
      baseline: samples.baseline,
      baselineLabel: "bare git worktree add",
      target: null,
      notes: [
        "the worktree step's durationMs from events.jsonl (branch check, then git worktree add: its metadata through the metadata queue, then its checkout)",
      ],
    }),
  ];
}
