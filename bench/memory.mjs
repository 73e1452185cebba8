// Memory: peak resident memory (VmHWM) of the conductor process itself, not of its children,
// with 32 workspaces at once each printing 50 MB of output; against a trivial run (one workspace
// whose agent prints nothing). Target: under 200 MB.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import {
  benchEnv,
  createRepo,
  freshHome,
  interleave,
  log,
  median,
  QUICK,
  removeDir,
  resetRepo,
  resultRow,
  round,
  sampleProcess,
  tempDir,
  timedConductor,
  writeConfig,
} from "./lib.mjs";

const WORKSPACES = 32;
const OUTPUT_BYTES = QUICK ? 5 * 1024 * 1024 : 50 * 1024 * 1024;
/** 50 MB of 100-character lines (plus newlines): lines, not one endless line, like real tools. */
const LOUD_AGENT = `head -c ${OUTPUT_BYTES} /dev/zero | tr '\\0' x | fold -w 100`;

export async function run({ runs }) {
  const base = tempDir("memory");
  const repo = path.join(base, "repo");
  // An env file with a secret is copied, so the redactor works on every byte, as it would.
  createRepo(
    repo,
    { "README.md": "# memory\n" },
    { ".env.local": "API_TOKEN=bench-secret-value\n" },
  );
  const ws = path.join(base, "ws");
  const workspaces = { dir: ws, copy: [".env.local"] };
  const loud = writeConfig(path.join(base, "loud"), {
    version: 1,
    concurrency: WORKSPACES,
    workspaces,
    agent: { kind: "command", command: LOUD_AGENT },
    tasks: Array.from({ length: WORKSPACES }, (_, i) => ({ id: `loud-${i + 1}`, prompt: "print" })),
  });
  const quiet = writeConfig(path.join(base, "quiet"), {
    version: 1,
    concurrency: 1,
    workspaces,
    agent: { kind: "command", command: "true" },
    tasks: [{ id: "quiet", prompt: "nothing" }],
  });
  const logSizes = [];
  const seconds = [];
  const peakRss = (config, name) => async () => {
    const result = await timedConductor(["-c", config, "run", "--output", "plain"], {
      cwd: repo,
      env: benchEnv(freshHome(base, name)),
      outFile: path.join(base, `${name}.out`),
      onSpawn: (child) => {
        const stop = sampleProcess(child.pid, 10);
        return new Promise((resolve) => child.once("exit", () => resolve(stop())));
      },
    });
    if (name === "loud") {
      seconds.push(result.ms / 1000);
      logSizes.push(agentLogSize(repo, "loud-1"));
    }
    return result.extra.peakRssKb / 1024;
  };

  log(
    `memory: ${WORKSPACES} workspaces × ${OUTPUT_BYTES / 2 ** 20} MB of output, ${runs} runs each`,
  );
  const samples = await interleave(runs, {
    conductor: {
      prepare: () => resetRepo(repo, ws, ["conductor/"]),
      measure: peakRss(loud, "loud"),
    },
    baseline: {
      prepare: () => resetRepo(repo, ws, ["conductor/"]),
      measure: peakRss(quiet, "quiet"),
    },
  });
  resetRepo(repo, ws, ["conductor/"]);
  removeDir(base);
  const logMb = round(Math.min(...logSizes) / 2 ** 20, 1);
  if (logMb < (OUTPUT_BYTES / 2 ** 20) * 0.99)
    throw new Error(`an agent log holds only ${logMb} MB`);
  return [
    resultRow({
      id: "memory-32x50mb",
      benchmark: `Memory: peak RSS of conductor, ${WORKSPACES} workspaces × ${OUTPUT_BYTES / 2 ** 20} MB output`,
      unit: "MB",
      conductor: samples.conductor,
      baseline: samples.baseline,
      baselineLabel: "trivial run: 1 workspace, no output",
      target: { on: "conductor", max: 200, below: true, text: "< 200 MB" },
      notes: [
        `every agent log holds its whole output (${logMb} MB each); a run took ${round(median(seconds), 1)} s (median)`,
      ],
    }),
  ];
}

/** Size of a workspace's agent log in the latest run. */
function agentLogSize(repo, workspace) {
  const runsDir = path.join(repo, ".conductor", "runs");
  const latest = readdirSync(runsDir).sort().at(-1);
  return statSync(path.join(runsDir, latest, "workspaces", workspace, "agent.log")).size;
}
