// Shared helpers of the benchmarks: timing, medians, spawning, temporary repositories, results.
// Plain Node ESM; the benchmarks drive the built CLI in dist/ as a user would.
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Root of the project (the folder holding package.json). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The built CLI's bundle, which the `conductor` command (bin/conductor) runs. */
export const CONDUCTOR_MAIN = process.env.BENCH_CONDUCTOR
  ? path.resolve(process.env.BENCH_CONDUCTOR)
  : path.join(PROJECT_ROOT, "dist", "bin", "conductor.js");

/**
 * How the bench starts conductor: as a user's `conductor` does, through bin/conductor of the
 * package that holds `main` (the command npm links); `node main` for a build from before that
 * launcher. Returns the program and the arguments before conductor's own.
 */
export function conductorCommand(main = CONDUCTOR_MAIN) {
  const launcher = path.join(path.dirname(main), "..", "..", "bin", "conductor");
  return existsSync(launcher) ? [launcher] : [process.execPath, main];
}

/** Development mode: fewer repetitions and smaller inputs. Never published (see writeResults). */
export const QUICK = process.env.BENCH_QUICK === "1";
/** Repetitions per measurement; the published figures need at least 5. */
export const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 5));
/** Workspaces at once, for conductor and for its baseline alike. */
export const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
/** Keep the temporary folders for inspection. */
export const KEEP = process.env.BENCH_KEEP === "1";

/** A fresh, symlink-free temporary folder. */
export function tempDir(prefix) {
  return realpathSync(mkdtempSync(path.join(os.tmpdir(), `conductor-bench-${prefix}-`)));
}

/** Removes a temporary folder unless BENCH_KEEP=1 (into the trash: see {@link discard}). */
export function removeDir(dir) {
  if (!KEEP) discard(dir);
}

/**
 * Removes a temporary folder at once, unless BENCH_KEEP=1: for gigabytes (the seed benchmark's
 * installs), which would fill the disk in the trash, measured after every other benchmark.
 */
export function removeDirNow(dir) {
  if (!KEEP) rmSync(dir, { recursive: true, force: true });
}

/**
 * Where the bench puts what it removes while it measures, emptied once at the end
 * ({@link emptyTrash}). Deleting files makes the next ones slow to create, for minutes, on some
 * file systems: ext4 without a journal (this machine's) skips every inode freed in the last 60 s
 * (6 min while its table is unwritten) when it picks one for a new file, one by one (the kernel's
 * `recently_deleted`). Removing a run's 3,600 worktree files just before the next run made that
 * run's file creations cost 1 s more system CPU, and the baseline's relatively more, since it
 * does less else: both sides are measured on a file system that has deleted nothing lately.
 */
let trash;

/** Moves a file or folder into the trash (removed at once when it cannot be moved there). */
export function discard(target) {
  if (!existsSync(target)) return;
  if (trash === undefined) {
    trash = realpathSync(mkdtempSync(path.join(os.tmpdir(), "conductor-bench-trash-")));
    process.once("exit", emptyTrash); // also when a benchmark broke
    // Interrupted (Ctrl-C, a CI timeout): emptied too, then the usual exit of a signal.
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
      process.once(signal, () => {
        emptyTrash();
        process.exit(128 + os.constants.signals[signal]);
      });
    }
  }
  try {
    renameSync(target, path.join(trash, `${Date.now()}-${Math.random().toString(36).slice(2)}`));
  } catch {
    rmSync(target, { recursive: true, force: true });
  }
}

/** Deletes what {@link discard} kept, once every measurement is done. */
export function emptyTrash() {
  if (trash === undefined) return;
  rmSync(trash, { recursive: true, force: true });
  trash = undefined;
}

/** Median of numbers (mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Logs progress to stderr, so stdout carries only the results table. */
export function log(message) {
  process.stderr.write(`bench: ${message}\n`);
}

/** Environment of every measured process: a private HOME and git kept off the user's config. */
export function benchEnv(home, extra = {}) {
  return {
    ...process.env,
    // bin/conductor runs the `node` on the PATH: the one running the bench.
    PATH: [path.dirname(process.execPath), process.env.PATH].filter(Boolean).join(path.delimiter),
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "Bench",
    GIT_AUTHOR_EMAIL: "bench@example.com",
    GIT_COMMITTER_NAME: "Bench",
    GIT_COMMITTER_EMAIL: "bench@example.com",
    CI: "1", // plain line output, no live view
    NO_COLOR: "1",
    ...extra,
  };
}

/**
 * Spawns a process and measures wall time from just before the spawn to its exit. Output goes to
 * files (never through a pipe to this process, which would add back-pressure of its own).
 * `onSpawn(child)` runs right after the spawn (e.g. to sample its memory).
 */
export async function timed(file, args, { cwd, env, outFile, onSpawn } = {}) {
  const out = outFile ?? path.join(os.tmpdir(), `conductor-bench-${process.pid}.out`);
  const fd = openSync(out, "w");
  const cpuBefore = childrenCpuMs();
  const spawnedAt = Date.now();
  const started = process.hrtime.bigint();
  const child = spawn(file, args, { cwd, env, stdio: ["ignore", fd, fd] });
  const hook = onSpawn?.(child);
  const [code, signal] = await new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpuMs = childrenCpuMs() - cpuBefore;
  closeSync(fd);
  const extra = hook ? await hook : undefined;
  const output = readFileSync(out, "utf8");
  if (code !== 0) {
    throw new Error(
      `${path.basename(file)} ${args.join(" ").slice(0, 200)} exited ${code ?? signal}:\n${output.slice(-3000)}`,
    );
  }
  return { ms, cpuMs, output, extra, spawnedAt };
}

/**
 * CPU time (user + system) of this process's children that have ended, from /proc/self/stat
 * (cutime + cstime). A child's figure includes every descendant it waited for, so the difference
 * around one measured run is the CPU time of that run's whole process tree (10 ms resolution).
 */
export function childrenCpuMs() {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100; // USER_HZ = 100
}

/** Runs a command synchronously (setup, not measured); throws with its output on failure. */
export function sh(command, args, options = {}) {
  const result = spawnSync(command, args, {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    ...options,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.status ?? result.signal}): ${result.stderr}${result.stdout}`.slice(
        0,
        4000,
      ),
    );
  }
  return result.stdout;
}

/**
 * Measures two contenders back to back, `runs` times each: A B, B A, A B, … (alternating who goes
 * first, so a slow spell of a shared machine hits both). Each contender is `{ prepare?, measure }`;
 * `prepare` (not timed) resets the repository, `measure` returns milliseconds (or any number).
 */
export async function interleave(runs, contenders) {
  const names = Object.keys(contenders);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < runs; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const contender = contenders[name];
      await contender.prepare?.(round);
      samples[name].push(await contender.measure(round));
    }
  }
  return samples;
}

/**
 * A shell function for the baselines: `git worktree add --no-track -b`, retried like a careful
 * script would, because adds running in parallel sometimes fail on another add's half-made admin
 * folder ("fatal: failed to read .git/worktrees/<id>/commondir"). Each retry is counted in
 * `$BENCH_LOGS/retries`. Usage: add_worktree <repo> <branch> <path> <start>.
 */
export const ADD_WORKTREE_SH = `add_worktree() {
  tries=0
  until git -C "$1" worktree add --quiet --no-track -b "$2" "$3" "$4" 2>>"$BENCH_LOGS/add-errors.log"; do
    tries=$((tries + 1))
    [ "$tries" -lt 10 ] || return 1
    echo "$2" >> "$BENCH_LOGS/retries"
    rm -rf "$3"
    git -C "$1" branch -D "$2" >/dev/null 2>&1 || true
    sleep 0.05
  done
}`;

/** Retries counted by {@link ADD_WORKTREE_SH} in a logs folder. */
export function countRetries(logs) {
  const file = path.join(logs, "retries");
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0;
}

/** git config of every benchmark repository (as the test rig: no signing, no background maintenance). */
const REPO_CONFIG = {
  "user.name": "Bench",
  "user.email": "bench@example.com",
  "commit.gpgSign": "false",
  "gc.auto": "0",
  "maintenance.auto": "false",
};

/**
 * Creates a git repository at `root` with `files` (relative path → content) committed on `main`.
 * `ignored` files are written too but kept out of git by .gitignore (like `.env.local`).
 */
export function createRepo(root, files, ignored = {}) {
  mkdirSync(root, { recursive: true });
  sh("git", ["init", "-q", "-b", "main"], { cwd: root });
  for (const [key, value] of Object.entries(REPO_CONFIG))
    sh("git", ["config", key, value], { cwd: root });
  const all = { ...files, ".gitignore": `${Object.keys(ignored).join("\n")}\n` };
  for (const [file, content] of Object.entries({ ...all, ...ignored })) {
    const target = path.join(root, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  sh("git", ["add", "-A"], { cwd: root });
  sh("git", ["commit", "-q", "-m", "initial commit"], { cwd: root });
  return sh("git", ["rev-parse", "HEAD"], { cwd: root }).trim();
}

/**
 * Puts a repository back to its freshly-created state between measured runs: worktrees, the
 * branches made by a run, conductor's state folder and the workspaces folder go away.
 */
export function resetRepo(root, workspacesDir, branchPrefixes) {
  discard(workspacesDir);
  discard(path.join(root, ".conductor"));
  // Their admin folders go too, as `git worktree prune` would remove them.
  const admin = path.join(root, ".git", "worktrees");
  for (const id of existsSync(admin) ? readdirSync(admin) : []) {
    const gitdir = path.join(admin, id, "gitdir");
    const worktree = existsSync(gitdir) ? readFileSync(gitdir, "utf8").trim() : "";
    if (worktree.startsWith(`${workspacesDir}${path.sep}`)) discard(path.join(admin, id));
  }
  const refs = sh(
    "git",
    ["for-each-ref", "--format=%(refname)", ...branchPrefixes.map((p) => `refs/heads/${p}`)],
    { cwd: root },
  )
    .split("\n")
    .filter(Boolean);
  if (refs.length > 0) {
    sh("git", ["update-ref", "--stdin"], {
      cwd: root,
      input: refs.map((ref) => `delete ${ref}\n`).join(""),
    });
  }
}

/** Writes conductor.yaml (JSON is valid YAML) into a folder. */
export function writeConfig(dir, config) {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "conductor.yaml");
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/**
 * Runs the built CLI as {@link conductorCommand} starts it (or another build's `main`), timed
 * from spawn to exit. `options.nodeArgs` go to conductor's node (e.g. `--require
 * bench/probe.cjs`): through NODE_OPTIONS, which the launcher passes on, and every Node program
 * conductor starts inherits (the measured runs start none: their agents are `sh`).
 */
export function timedConductor(args, options, main = CONDUCTOR_MAIN) {
  const [file, ...before] = conductorCommand(main);
  const nodeArgs = options.nodeArgs ?? [];
  if (nodeArgs.length === 0) return timed(file, [...before, ...args], options);
  const env = options.env ?? process.env;
  const nodeOptions = [env.NODE_OPTIONS, ...nodeArgs.map((arg) => JSON.stringify(arg))];
  return timed(file, [...before, ...args], {
    ...options,
    env: { ...env, NODE_OPTIONS: nodeOptions.filter(Boolean).join(" ") },
  });
}

/** A fresh private HOME for one conductor run (port registry and default workspaces live under it). */
export function freshHome(base, name) {
  const home = path.join(base, "homes", name);
  discard(home);
  mkdirSync(home, { recursive: true });
  return home;
}

/** Count of commits on branches under a prefix that are not on main (checks that the work was done). */
export function committedBranches(root, prefix) {
  const out = sh("git", ["for-each-ref", "--format=%(refname)", `refs/heads/${prefix}`], {
    cwd: root,
  });
  let done = 0;
  for (const ref of out.split("\n").filter(Boolean)) {
    if (sh("git", ["rev-list", "--count", `main..${ref}`], { cwd: root }).trim() !== "0") done++;
  }
  return done;
}

/** Facts about the machine, for the JSON results. */
export function machineInfo() {
  const version = (command, args) => {
    try {
      return sh(command, args).trim();
    } catch {
      return "unknown";
    }
  };
  const codexBin = path.join(PROJECT_ROOT, "node_modules", ".bin", "codex");
  return {
    date: new Date().toISOString(),
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    git: version("git", ["--version"]).replace(/^git version /, ""),
    codex: existsSync(codexBin) ? version(codexBin, ["--version"]) : "not installed",
  };
}

/** Rounds for display and JSON (stable, no float noise). */
export function round(value, digits = 2) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * Where the time of one `conductor run` went, from its events.jsonl (every event has a time and
 * every step a durationMs): start-up until `run.started`, the run itself, and the tail until exit;
 * plus the median duration of each step over the workspaces.
 */
export function runBreakdown(root, spawnedAtEpochMs, totalMs) {
  const runsDir = path.join(root, ".conductor", "runs");
  const latest = sh("ls", [runsDir]).split("\n").filter(Boolean).sort().at(-1);
  const events = readFileSync(path.join(runsDir, latest, "events.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const started = events.find((event) => event.type === "run.started");
  const finished = events.find((event) => event.type === "run.finished");
  const startupMs = Date.parse(started.time) - spawnedAtEpochMs;
  const steps = {};
  for (const event of events) {
    if (event.type !== "step.finished" || event.status === "skipped") continue;
    steps[event.step] = [...(steps[event.step] ?? []), event.durationMs];
  }
  return {
    startupMs: round(startupMs, 0),
    runMs: finished.durationMs,
    tailMs: round(totalMs - startupMs - finished.durationMs, 0),
    stepMedianMs: Object.fromEntries(
      Object.entries(steps).map(([step, values]) => [step, median(values)]),
    ),
    stepMaxMs: Object.fromEntries(
      Object.entries(steps).map(([step, values]) => [step, Math.max(...values)]),
    ),
  };
}

/** Median of each numeric field over several breakdowns (nested one level for the step maps). */
export function medianBreakdown(breakdowns) {
  const result = {};
  for (const key of Object.keys(breakdowns[0])) {
    const first = breakdowns[0][key];
    if (typeof first === "number") result[key] = median(breakdowns.map((b) => b[key]));
    else {
      result[key] = {};
      for (const inner of Object.keys(first))
        result[key][inner] = median(breakdowns.map((b) => b[key][inner] ?? 0));
    }
  }
  return result;
}

/**
 * One row of the results table. `target` is `{ on: "ratio" | "conductor", max, below?, text }`:
 * the figure that must stay at or under `max` (under it with `below`), or `null` for an
 * informational row.
 */
export function resultRow({
  id,
  benchmark,
  unit,
  conductor,
  baseline,
  baselineLabel,
  target,
  notes = [],
  extra = {},
  // Decimals shown; whole milliseconds unless a figure near its target needs more to read right.
  digits = unit === "ms" ? 0 : 1,
}) {
  const c = median(conductor);
  const b = median(baseline);
  // Each round measured both back to back; the median of the rounds' ratios resists a slow
  // spell of a shared machine better than the ratio of the two medians.
  const ratio = median(conductor.map((value, i) => value / baseline[i]));
  const measured = target === null ? null : target.on === "ratio" ? ratio : c;
  const pass =
    target === null ? null : target.below ? measured < target.max : measured <= target.max;
  return {
    id,
    benchmark,
    unit,
    conductor: round(c, digits),
    baseline: round(b, digits),
    baselineLabel,
    ratio: round(ratio, 2),
    ratioOfMedians: round(c / b, 2),
    target: target === null ? null : target.text,
    pass,
    runs: conductor.length,
    samples: {
      conductor: conductor.map((v) => round(v, 1)),
      baseline: baseline.map((v) => round(v, 1)),
    },
    notes,
    ...extra,
  };
}

/**
 * Samples a process's own figures from /proc every `intervalMs` until it exits: peak resident
 * memory (VmHWM, which only grows) and CPU time (utime + stime, its own, not its children's).
 * Returns a function that stops sampling and gives the last values read before the exit.
 */
export function sampleProcess(pid, intervalMs = 20) {
  const ticksPerSecond = 100; // USER_HZ on Linux
  let last = { peakRssKb: 0, cpuMs: 0 };
  const read = () => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields after the command name (which may hold spaces) start at index 2 (state).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cpuTicks = Number(fields[11]) + Number(fields[12]); // utime, stime
      const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      if (hwm > 0) last = { peakRssKb: hwm, cpuMs: (cpuTicks * 1000) / ticksPerSecond };
    } catch {
      // The process is gone (or a zombie without memory figures): keep the last reading.
    }
  };
  read();
  const timer = setInterval(read, intervalMs);
  return () => {
    clearInterval(timer);
    return last;
  };
}
