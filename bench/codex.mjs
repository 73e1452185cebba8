// Codex path: `conductor run` of 4 workspaces with the real `codex exec` against the scripted
// model server (one exec step, then a message), against the same 4 `codex exec` calls launched by
// a shell loop in parallel, each with `git worktree add` before and `git add` + `git commit` after,
// so that both sides do the same work.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildSync } from "esbuild";
import {
  ADD_WORKTREE_SH,
  benchEnv,
  committedBranches,
  countRetries,
  createRepo,
  discard,
  freshHome,
  interleave,
  log,
  median,
  medianBreakdown,
  PROJECT_ROOT,
  removeDir,
  resetRepo,
  resultRow,
  runBreakdown,
  tempDir,
  timed,
  timedConductor,
  writeConfig,
} from "./lib.mjs";

const WORKSPACES = 4;
const CODEX = path.join(PROJECT_ROOT, "node_modules", ".bin", "codex");

/** What the scripted model does in every session: run one command, then answer. */
const STEPS = [
  { kind: "exec", cmd: "echo done > result.txt" },
  { kind: "message", text: "Wrote result.txt." },
];

/**
 * One workspace by hand: the same codex command line conductor builds (see src/agents/codex),
 * the add retried on git's lock errors (see ADD_WORKTREE_SH).
 */
function baselineScript(codexArgs) {
  const quoted = codexArgs.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
  return `#!/bin/sh
set -e
${ADD_WORKTREE_SH}
i=$1
ws="$BENCH_WS/task-$i"
add_worktree "$BENCH_REPO" "bench/task-$i" "$ws" "$BENCH_BASE"
"$BENCH_CODEX" exec --json --cd "$ws" -s workspace-write -m "$BENCH_MODEL" ${quoted} "Write the result file for task $i." < /dev/null > "$BENCH_LOGS/task-$i.jsonl" 2>&1
cd "$ws"
git add --all -- .
git commit --quiet --no-verify -m "task-$i: Write the result file"
`;
}

export async function run({ runs }) {
  const serverDir = tempDir("codex-server");
  const server = await import(modelServerModule(serverDir));
  const model = await server.startModelServer({ script: server.sequenceScript(STEPS) });
  try {
    return [await measure(runs, server, model)];
  } finally {
    await model.close();
    removeDir(serverDir);
  }
}

/**
 * The scripted model server as a module this script can import: dist/ holds only the bundled CLI,
 * so the server is bundled on its own into a temporary file (esbuild, a dev dependency).
 */
function modelServerModule(dir) {
  const outfile = path.join(dir, "server.mjs");
  buildSync({
    entryPoints: [path.join(PROJECT_ROOT, "src", "model-server", "server.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile,
    logLevel: "warning",
  });
  return outfile;
}

async function measure(runs, server, model) {
  const base = tempDir("codex");
  const repo = path.join(base, "repo");
  const commit = createRepo(repo, { "README.md": "# codex bench\n" });
  const codexHome = await server.prepareCodexHome(path.join(base, "codex-home"));
  const conductorWs = path.join(base, "ws-conductor");
  const baselineWs = path.join(base, "ws-baseline");
  const logs = path.join(base, "baseline-logs");
  const config = writeConfig(base, {
    version: 1,
    concurrency: WORKSPACES,
    env: { CODEX_HOME: codexHome },
    workspaces: { dir: conductorWs },
    agent: {
      kind: "codex",
      model: server.SCRIPTED_MODEL,
      timeout: "2m",
      config: server.codexProviderConfig(model.url),
    },
    tasks: Array.from({ length: WORKSPACES }, (_, i) => ({
      id: `task-${i + 1}`,
      prompt: `Write the result file for task ${i + 1}.`,
    })),
  });
  const script = path.join(base, "one-workspace.sh");
  writeFileSync(script, baselineScript(server.codexProviderArgs(model.url)));
  const baselineCommand = `for i in $(seq 1 ${WORKSPACES}); do sh ${script} $i & done; wait`;
  const breakdowns = [];
  const cpu = { conductor: [], baseline: [] };
  let lockRetries = 0;

  log(`codex: ${WORKSPACES} workspaces with the real codex, ${runs} runs each`);
  const samples = await interleave(runs, {
    conductor: {
      prepare: () => resetRepo(repo, conductorWs, ["conductor/"]),
      measure: async () => {
        const result = await timedConductor(["-c", config, "run", "--output", "plain"], {
          cwd: repo,
          env: benchEnv(freshHome(base, "conductor")),
          outFile: path.join(base, "conductor.out"),
        });
        expectCommits(repo, "conductor/");
        breakdowns.push(runBreakdown(repo, result.spawnedAt, result.ms));
        cpu.conductor.push(result.cpuMs);
        return result.ms;
      },
    },
    baseline: {
      prepare: () => {
        resetRepo(repo, baselineWs, ["bench/"]);
        lockRetries += countRetries(logs);
        discard(logs);
        mkdirSync(logs, { recursive: true });
      },
      measure: async () => {
        const result = await timed("sh", ["-c", baselineCommand], {
          cwd: repo,
          env: benchEnv(freshHome(base, "baseline"), {
            CODEX_HOME: codexHome,
            BENCH_CODEX: CODEX,
            BENCH_MODEL: server.SCRIPTED_MODEL,
            BENCH_REPO: repo,
            BENCH_WS: baselineWs,
            BENCH_BASE: commit,
            BENCH_LOGS: logs,
          }),
          outFile: path.join(base, "baseline.out"),
        });
        expectCommits(repo, "bench/");
        cpu.baseline.push(result.cpuMs);
        return result.ms;
      },
    },
  });
  lockRetries += countRetries(logs);
  resetRepo(repo, conductorWs, ["conductor/", "bench/"]);
  removeDir(base);
  const breakdown = medianBreakdown(breakdowns);
  return resultRow({
    id: "codex-4",
    benchmark: `Codex path, ${WORKSPACES} workspaces (real codex exec, scripted model)`,
    unit: "ms",
    conductor: samples.conductor,
    baseline: samples.baseline,
    baselineLabel: `${WORKSPACES} × (git worktree add + codex exec + git commit), shell loop in parallel`,
    target: { on: "ratio", max: 1.1, text: "ratio ≤ 1.10" },
    notes: [
      `conductor: start-up to run.started ${breakdown.startupMs} ms, run ${breakdown.runMs} ms (agent step median ${breakdown.stepMedianMs.agent} ms), reports and exit ${breakdown.tailMs} ms`,
      `CPU time of the process trees (medians): conductor ${median(cpu.conductor)} ms, baseline ${median(cpu.baseline)} ms (codex itself is most of both)`,
      `baseline: ${lockRetries} worktree add retr${lockRetries === 1 ? "y" : "ies"} on git lock errors over ${runs} runs`,
    ],
    extra: {
      breakdown,
      cpuMs: { conductorTree: median(cpu.conductor), baselineTree: median(cpu.baseline) },
    },
  });
}

function expectCommits(repo, prefix) {
  const done = committedBranches(repo, prefix);
  if (done !== WORKSPACES)
    throw new Error(`expected ${WORKSPACES} committed branches under ${prefix}, found ${done}`);
}
