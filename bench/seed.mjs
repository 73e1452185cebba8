// Issue 16, part 2: workspaces ready in the time of one install. A real npm project (vendored
// package.json + package-lock.json, installed from the registry with npm ci), 8 workspaces made
// by `conductor run` with `workspaces.seed: node_modules`, against one `npm ci` in a fresh
// checkout, measured back to back; then the disk the 8 workspaces take beyond one node_modules,
// and, side by side, the default seed mode and the naive per-workspace `npm ci`.
// BENCH_OFFLINE=1 skips the network: a generated dependency tree stands in for npm ci.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  benchEnv,
  createRepo,
  freshHome,
  interleave,
  log,
  PROJECT_ROOT,
  QUICK,
  removeDirNow,
  resultRow,
  sh,
  tempDir,
  timed,
  timedConductor,
  writeConfig,
} from "./lib.mjs";

/** Workspaces per conductor run. */
const WORKSPACES = Number(process.env.BENCH_SEED_WORKSPACES ?? 8);
/** Workspaces at once in every conductor run of this benchmark. */
const SEED_CONCURRENCY = Number(process.env.BENCH_SEED_CONCURRENCY ?? 8);
/** Skip the registry: install a generated tree instead of the vendored project. */
const OFFLINE = process.env.BENCH_OFFLINE === "1";
/** The side-by-side runs (default mode, naive npm ci) take minutes; BENCH_SEED_SIDE=0 skips them. */
const SIDE_BY_SIDE = process.env.BENCH_SEED_SIDE !== "0";
const FIXTURE = path.join(PROJECT_ROOT, "bench", "fixtures", "npm-app");

const NPM_FLAGS = "--no-audit --no-fund --loglevel=error";

/**
 * The offline stand-in for npm ci: 20,000 files, about 150 MB, in 1,000 packages (QUICK: a tenth),
 * written by a deterministic script, so the seeding itself can be measured with no registry.
 */
const GENERATE_DEPS = `import { mkdirSync, writeFileSync } from "node:fs";
const packages = ${QUICK ? 100 : 1000};
for (let p = 0; p < packages; p++) {
  const dir = "node_modules/pkg-" + p;
  mkdirSync(dir + "/lib", { recursive: true });
  writeFileSync(dir + "/package.json", JSON.stringify({ name: "pkg-" + p, version: "1.0.0" }));
  for (let f = 0; f < 19; f++)
    writeFileSync(dir + "/lib/file-" + f + ".js", ("// " + p + "/" + f + "\\n").repeat(700 + ((p * 19 + f) % 200)));
}
`;

export async function run({ runs }) {
  const base = tempDir("seed");
  const repo = path.join(base, "repo");
  const npmCache = path.join(base, "npm-cache");
  const files = { "src/index.js": "export {};\n" };
  let install;
  if (OFFLINE) {
    files["package-lock.json"] = '{"name":"generated","lockfileVersion":3}\n';
    files["scripts/generate-deps.mjs"] = GENERATE_DEPS;
    install = "node scripts/generate-deps.mjs";
  } else {
    files["package.json"] = readFileSync(path.join(FIXTURE, "package.json"), "utf8");
    files["package-lock.json"] = readFileSync(path.join(FIXTURE, "package-lock.json"), "utf8");
    install = `npm ci ${NPM_FLAGS}`;
  }
  createRepo(repo, files);
  // createRepo writes .gitignore from its `ignored` files; node_modules is ignored, as in any project.
  writeFileSync(path.join(repo, ".gitignore"), "node_modules/\n");
  sh("git", ["commit", "-q", "-am", "ignore node_modules"], { cwd: repo });
  const env = (home) =>
    benchEnv(home, { npm_config_cache: npmCache, npm_config_update_notifier: "false" });
  const filesystem = filesystemFacts(base);
  log(`seed: ${filesystem.summary}`);

  // The registry is reached here only: every measured install reads the same warm npm cache.
  if (!OFFLINE) {
    log("seed: warming the npm cache (npm ci from the registry, not measured)");
    const warm = path.join(base, "warm");
    sh("git", ["worktree", "add", "--quiet", "--detach", warm], { cwd: repo });
    sh("sh", ["-c", install], { cwd: warm, env: env(freshHome(base, "warm")) });
  }

  const configFor = (name, round, seed) =>
    writeConfig(path.join(base, `config-${name}-${round}`), {
      version: 1,
      concurrency: SEED_CONCURRENCY,
      workspaces: {
        dir: path.join(base, `ws-${name}-${round}`),
        branch: `conductor/${name}-${round}/{{task}}`,
        ...(seed === undefined ? {} : { seed }),
      },
      scripts: { setup: install },
      agent: { kind: "command", command: "true" },
      tasks: Array.from({ length: WORKSPACES }, (_, i) => ({
        id: `ws-${i + 1}`,
        prompt: "nothing to do",
      })),
    });
  const runConductor = async (name, round, seed) => {
    const home = freshHome(base, `${name}-${round}`); // an empty cache: the run fills it once
    const result = await timedConductor(
      ["-c", configFor(name, round, seed), "run", "--output", "plain"],
      { cwd: repo, env: env(home), outFile: path.join(base, `${name}-${round}.out`) },
    );
    const output = readFileSync(path.join(base, `${name}-${round}.out`), "utf8");
    if (!new RegExp(`conductor: run \\S+ succeeded in .*: ${WORKSPACES} succeeded`).test(output))
      throw new Error(`conductor run ${name} failed:\n${output.slice(-2000)}`);
    return {
      ms: result.ms,
      readyMs: readyMs(repo, result.spawnedAt, seed === undefined ? "setup" : "seed"),
      steps: seed === undefined ? undefined : seedSteps(repo),
      home,
      output,
      workspaces: path.join(base, `ws-${name}-${round}`),
    };
  };
  const settle = () => sh("sync", []);

  log(`seed: ${WORKSPACES} workspaces (hardlink) against one install, ${runs} rounds`);
  const seeded = [];
  const samples = await interleave(runs, {
    conductor: {
      prepare: settle,
      measure: async (round) => {
        const result = await runConductor("hardlink", round, [
          { path: "node_modules", mode: "hardlink" },
        ]);
        seeded.push(result);
        return result.readyMs;
      },
    },
    baseline: {
      prepare: (round) => {
        sh("git", ["worktree", "add", "--quiet", "--detach", path.join(base, `one-${round}`)], {
          cwd: repo,
        });
        settle();
      },
      measure: async (round) =>
        (
          await timed("sh", ["-c", install], {
            cwd: path.join(base, `one-${round}`),
            env: env(freshHome(base, `one-${round}`)),
            outFile: path.join(base, `one-${round}.out`),
          })
        ).ms,
    },
  });
  const one = path.join(base, "one-0", "node_modules");
  const oneKb = duKb([one]);
  const fileCount = countFiles(one);
  const disk = seededDisk(seeded[0], oneKb);
  const steps = seeded[0].steps;
  const rows = [
    resultRow({
      id: "seed-ready-8",
      benchmark: `Seed: ${WORKSPACES} workspaces ready (worktree + node_modules by hard links), concurrency ${SEED_CONCURRENCY}`,
      unit: "ms",
      conductor: samples.conductor,
      baseline: samples.baseline,
      baselineLabel: `one \`${OFFLINE ? "generated install" : "npm ci"}\` in a fresh checkout, warm npm cache`,
      target: { on: "ratio", max: 1.3, text: "ratio ≤ 1.30" },
      notes: [
        `node_modules: ${mb(oneKb)} MB, ${fileCount.toLocaleString("en-US")} files (${OFFLINE ? "generated offline" : "bench/fixtures/npm-app, npm ci"})`,
        `conductor run (first round): the fill (${install} in a fresh shared clone) ${steps.fillMs} ms, placing ${WORKSPACES} × node_modules ${steps.placeMedianMs} ms median per workspace`,
        `filesystem: ${filesystem.summary}`,
        `ready = from spawning conductor to the last workspace's seed step done (events.jsonl); the whole runs (agent \`true\`, commit, exit) took ${seeded.map((r) => Math.round(r.ms)).join(", ")} ms`,
      ],
      extra: { filesystem, install },
    }),
    resultRow({
      id: "seed-disk-8",
      benchmark: `Seed: disk per workspace beyond one node_modules (hard links, du counting each inode once)`,
      unit: "MB",
      conductor: [disk.extraPerWorkspaceKb / 1024],
      baseline: [oneKb / 1024],
      baselineLabel: "one node_modules",
      target: { on: "ratio", max: 0.1, text: "ratio ≤ 0.10" },
      notes: [
        `du -sk of the cache entry and the ${WORKSPACES} workspaces' node_modules together: ${mb(disk.totalKb)} MB for ${WORKSPACES} workspaces + the cache; the per-workspace part is new folders (hard links share the files' data)`,
      ],
    }),
  ];
  for (const result of seeded) removeDirNow(result.workspaces);

  if (SIDE_BY_SIDE) {
    try {
      await sideBySide();
    } catch (error) {
      error.rows = rows; // the rows measured so far are kept (bench/run.mjs)
      throw error;
    }
  }
  removeDirNow(base);
  return rows;

  async function sideBySide() {
    log("seed: the default mode (clone: reflink where supported, else copy), one run");
    settle();
    const clone = await runConductor("clone", 0, ["node_modules"]);
    const cloneDisk = seededDisk(clone, oneKb);
    const methods = [...new Set(clone.output.match(/node_modules by [a-z ]+ from/g) ?? [])];
    rows.push(
      resultRow({
        id: "seed-default-mode-8",
        benchmark: `Seed, default mode (clone): ${WORKSPACES} workspaces ready`,
        unit: "ms",
        conductor: [clone.readyMs],
        baseline: [median(samples.baseline)],
        baselineLabel: "one install (median above)",
        target: null,
        notes: [
          `placed as: ${methods.join("; ")}; disk beyond one node_modules ${mb(cloneDisk.extraPerWorkspaceKb)} MB per workspace (${Math.round((100 * cloneDisk.extraPerWorkspaceKb) / oneKb)} % by du, which counts reflinked blocks once per file)`,
        ],
      }),
    );
    removeDirNow(clone.workspaces);

    log(`seed: the naive way, ${install} in each of ${WORKSPACES} workspaces, one run`);
    settle();
    const naive = await runConductor("naive", 0, undefined);
    const naiveKb = duKb(
      readdirSync(naive.workspaces).map((name) =>
        path.join(naive.workspaces, name, "node_modules"),
      ),
    );
    rows.push(
      resultRow({
        id: "seed-naive-8",
        benchmark: `No seed: ${WORKSPACES} workspaces each running \`${OFFLINE ? "the generated install" : "npm ci"}\` (setup script)`,
        unit: "ms",
        conductor: [naive.readyMs],
        baseline: [median(samples.baseline)],
        baselineLabel: "one install (median above)",
        target: null,
        notes: [
          `disk: ${mb(naiveKb)} MB for ${WORKSPACES} node_modules (${mb(naiveKb / WORKSPACES)} MB each)`,
        ],
      }),
    );
    removeDirNow(naive.workspaces);
  }
}

/**
 * When the run's last workspace was ready: its `step` (seed, or setup without a seed) finished,
 * in ms from conductor's spawn, read from the run's events.jsonl.
 */
function readyMs(repo, spawnedAt, step) {
  const events = latestEvents(repo);
  const done = events.filter((e) => e.type === "step.finished" && e.step === step);
  if (done.length !== WORKSPACES)
    throw new Error(`expected ${WORKSPACES} ${step} steps, got ${done.length}`);
  return Math.max(...done.map((e) => Date.parse(e.time))) - spawnedAt;
}

/** What the seeded workspaces and the cache take on disk, beyond one node_modules. */
function seededDisk(result, oneKb) {
  const entries = path.join(result.home, ".conductor", "cache");
  const folders = readdirSync(result.workspaces).map((name) =>
    path.join(result.workspaces, name, "node_modules"),
  );
  // One du over every folder: GNU du counts a hard-linked inode once, where it first meets it.
  const totalKb = duKb([entries, ...folders]);
  return { totalKb, extraPerWorkspaceKb: (totalKb - oneKb) / folders.length };
}

function duKb(paths) {
  const out = spawnSync("du", ["-sk", "-c", ...paths], { encoding: "utf8" }).stdout;
  const total = out.trim().split("\n").at(-1) ?? "0";
  return Number(total.split(/\s+/)[0]);
}

function countFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory())
    .length;
}

/**
 * The fill (the filling workspace's `populating` to `placing` phase) and each placement (`placing`
 * to the seed step's end), in ms, from the latest run's events.jsonl.
 */
function seedSteps(repo) {
  const at = (event) => Date.parse(event.time);
  const events = latestEvents(repo);
  const phase = (workspace, name) =>
    events.find((e) => e.type === "seed.phase" && e.workspace === workspace && e.phase === name);
  let fillMs = "?";
  const placing = [];
  for (const done of events.filter((e) => e.type === "step.finished" && e.step === "seed")) {
    const placed = phase(done.workspace, "placing");
    const filling = phase(done.workspace, "populating");
    if (placed !== undefined) placing.push(at(done) - at(placed));
    if (filling !== undefined && placed !== undefined) fillMs = at(placed) - at(filling);
  }
  return { fillMs, placeMedianMs: placing.length === 0 ? "?" : median(placing) };
}

function latestEvents(repo) {
  const runs = path.join(repo, ".conductor", "runs");
  const latest = readdirSync(runs).sort().at(-1);
  return readFileSync(path.join(runs, latest, "events.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const mb = (kb) => Math.round(kb / 1024);

/** Which filesystem the bench folder, /tmp and $HOME are on, and whether they reflink. */
function filesystemFacts(base) {
  const facts = {};
  for (const [name, dir] of [
    ["bench folder", base],
    ["/tmp", os.tmpdir()],
    ["$HOME", os.homedir()],
  ]) {
    const type = spawnSync("df", ["--output=fstype", dir], { encoding: "utf8" })
      .stdout.trim()
      .split("\n")
      .at(-1);
    const probe = path.join(dir, `.conductor-bench-reflink-${process.pid}`);
    const source = path.join(base, ".reflink-source");
    writeFileSync(source, "x");
    const reflink = spawnSync("cp", ["--reflink=always", source, probe]).status === 0;
    spawnSync("rm", ["-f", probe]);
    facts[name] = { dir, type, reflink };
  }
  const summary = Object.entries(facts)
    .map(([name, f]) => `${name} ${f.type} (${f.reflink ? "reflink" : "no reflink"})`)
    .join(", ");
  return { ...facts, summary };
}
