// Shared pieces of the reliability suite: a seeded random source, snapshots of what must not
// change, and a fast reader of a run's events.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { expect } from "vitest";
import type { RunSummary } from "../../src/report/summary.js";
import { type CliResult, startConductor } from "../helpers/cli.js";
import { gitEnv, type TestRepo } from "../helpers/git-repo.js";
import { latestSummary, processesOfRun, repoWithConfig } from "../helpers/run-repo.js";

/**
 * The seed of every random choice in the suite. Set RELIABILITY_SEED to replay a failure: each
 * test prints the seed it used in its name or failure message.
 */
export const SEED = Number(process.env.RELIABILITY_SEED ?? 0x5eed_c0de) >>> 0;

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same sequence everywhere. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(0, items.length - 1)] as T;
  }
}

/** A seed derived from the suite seed and a label, so each test has its own stable sequence. */
export function seedFor(label: string): number {
  return createHash("sha256").update(`${SEED}:${label}`).digest().readUInt32LE(0);
}

/** The events of a run as written so far (a torn last line is skipped). */
export function eventsOf(root: string, runId: string): Record<string, unknown>[] {
  const file = path.join(root, ".conductor", "runs", runId, "events.jsonl");
  if (!existsSync(file)) return [];
  const events: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // torn last line
    }
  }
  return events;
}

/** The newest run id of a repository, or undefined before the first run folder exists. */
export function newestRunId(root: string): string | undefined {
  const dir = path.join(root, ".conductor", "runs");
  if (!existsSync(dir)) return undefined;
  return readdirSync(dir).sort().at(-1);
}

/**
 * Polls (every few milliseconds, so the moment found is close to the moment it happened) until
 * `condition` holds; returns its value. Waits on what the run writes, never on a fixed sleep.
 */
export async function pollUntil<T>(
  condition: () => T | undefined | false,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 5,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Whether the run has recorded `step.started` for `step` of `workspace`. */
export function stepHasStarted(
  root: string,
  runId: string,
  workspace: string,
  step: string,
): boolean {
  return eventsOf(root, runId).some(
    (event) =>
      event.type === "step.started" && event.workspace === workspace && event.step === step,
  );
}

/** Whether a workspace of the run has finished (its commit, if any, is done). */
export function workspaceHasFinished(root: string, runId: string, workspace: string): boolean {
  return eventsOf(root, runId).some(
    (event) => event.type === "workspace.finished" && event.workspace === workspace,
  );
}

/** What the main checkout looks like: it must be byte-for-byte the same after conductor ran. */
export interface CheckoutSnapshot {
  head: string;
  branch: string;
  index: string;
  status: string;
  stash: string;
  files: Record<string, string>;
}

/**
 * Makes the main checkout busy the way a developer's is: a modified tracked file, a staged new
 * file, an untracked file and a stash entry. Conductor must leave all of it alone.
 */
export async function makeCheckoutBusy(repo: TestRepo): Promise<void> {
  await repo.write({ "stashed.txt": "stash me\n" });
  await repo.git("add", "stashed.txt");
  await repo.git("stash", "push", "-q", "-m", "a developer's stash");
  await repo.write({
    "README.md": "# test\nedited in the main checkout, not committed\n",
    "staged.txt": "staged, not committed\n",
    "notes.txt": "untracked notes\n",
  });
  await repo.git("add", "staged.txt");
}

/** Snapshot of HEAD, branch, index, status, stash and the checkout's files (outside .conductor). */
export async function snapshotCheckout(repo: TestRepo): Promise<CheckoutSnapshot> {
  return {
    head: (await repo.git("rev-parse", "HEAD")).trim(),
    branch: (await repo.git("symbolic-ref", "HEAD")).trim(),
    index: await repo.git("ls-files", "--stage", "--debug"),
    status: await repo.git("status", "--porcelain=v2", "--branch", "--untracked-files=all"),
    stash: await repo.git("stash", "list", "--format=%H %gs"),
    files: treeSnapshot(repo.root, [".git", ".conductor"]),
  };
}

/**
 * Every file, folder and symlink under `dir` with a hash of its content (or link target), so two
 * snapshots differ exactly when something was added, removed or changed. `skip` names entries
 * directly under `dir` to leave out.
 */
export function treeSnapshot(dir: string, skip: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string, relative: string) => {
    for (const entry of readdirSync(current)) {
      if (relative === "" && skip.includes(entry)) continue;
      const full = path.join(current, entry);
      const rel = relative === "" ? entry : `${relative}/${entry}`;
      const info = lstatSync(full);
      if (info.isSymbolicLink()) out[rel] = `link ${readlinkSync(full)}`;
      else if (info.isDirectory()) {
        out[`${rel}/`] = "dir";
        walk(full, rel);
      } else if (info.isFile()) {
        out[rel] = createHash("sha256").update(readFileSync(full)).digest("hex");
      } else out[rel] = "special";
    }
  };
  if (existsSync(dir)) walk(dir, "");
  return out;
}

/** Tips of the given local branches that exist (branch → commit). */
export async function branchTips(
  repo: TestRepo,
  branches: readonly string[],
): Promise<Record<string, string>> {
  const tips: Record<string, string> = {};
  for (const branch of branches) {
    const out = await repo
      .git("rev-parse", "--verify", "--quiet", `refs/heads/${branch}`)
      .catch(() => "");
    if (out.trim() !== "") tips[branch] = out.trim();
  }
  return tips;
}

/** Whether `ancestor` is reachable from `descendant` in the repository. */
export async function isAncestor(
  repo: TestRepo,
  ancestor: string,
  descendant: string,
): Promise<boolean> {
  return repo.git("merge-base", "--is-ancestor", ancestor, descendant).then(
    () => true,
    () => false,
  );
}

/**
 * Ends what a failed test may have left running: process groups of the run's scripts and agents
 * (found by their CONDUCTOR_RUN_ID, so only this test's processes are touched).
 */
export function killLeftovers(runId: string | undefined): void {
  if (runId === undefined) return;
  for (const pid of processesOfRun(runId)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Output of a CLI call shows a JavaScript stack trace (a crash, not a clear error). */
export function hasStackTrace(output: string): boolean {
  return /\n\s+at .+[:(]\d+:\d+\)?/.test(output) || /\bat .+\.(js|ts):\d+:\d+/.test(output);
}

/** Files under `dir` (recursively) whose content contains `text`. */
export function filesContaining(dir: string, text: string): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && readFileSync(full).includes(text)) found.push(full);
    }
  };
  if (existsSync(dir)) walk(dir);
  return found;
}

/** Conductor processes a test started and may not have waited for. */
const started = new Set<ReturnType<typeof startConductor>>();

/** {@link startConductor}, remembered so that {@link stopStarted} can end it if the test fails. */
export function startTracked(
  ...args: Parameters<typeof startConductor>
): ReturnType<typeof startConductor> {
  const child = startConductor(...args);
  started.add(child);
  void child.finally(() => started.delete(child));
  return child;
}

/** Kills (SIGKILL, by pid) the conductor processes this test started that still run. */
export function stopStarted(): void {
  for (const child of started) child.kill("SIGKILL");
  started.clear();
}

/**
 * A `git` first on PATH that runs the real git and then, after a `git commit`, runs `afterCommit`
 * (shell code; `$$` is this git's pid, the process conductor waits for). Conductor's commit runs
 * no repository hook (core.hooksPath=/dev/null), so a post-commit hook cannot hold it. Returns
 * the environment that puts it first.
 */
export function gitWithAfterCommit(dir: string, afterCommit: string): Record<string, string> {
  const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
  const bin = path.join(dir, "git-after-commit");
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    path.join(bin, "git"),
    [
      "#!/bin/sh",
      'for arg in "$@"; do',
      '  if [ "$arg" = commit ]; then',
      `    ${JSON.stringify(real)} "$@"`,
      "    rc=$?",
      `    ${afterCommit}`,
      "    exit $rc",
      "  fi",
      "done",
      `exec ${JSON.stringify(real)} "$@"`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return { PATH: `${bin}:${process.env.PATH ?? ""}` };
}

/** After a test: ends what its repository's newest run left running, then removes it. */
export async function removeTestRepo(repo: TestRepo | undefined): Promise<void> {
  if (repo && existsSync(path.join(repo.root, ".conductor", "runs"))) {
    killLeftovers(newestRunId(repo.root));
  }
  await repo?.remove();
}

/** A workspace of a run's summary, by name; throws when the run has none of that name. */
export function workspaceOf(summary: RunSummary, name: string) {
  const found = summary.workspaces.find((workspace) => workspace.name === name);
  if (!found) throw new Error(`no workspace ${name}`);
  return found;
}

/**
 * Workspace `name` of the test's latest run, after checking that the run (its `result`) ended
 * with exit 1 and no stack trace and refused the workspace at `step` as an integrity failure.
 */
export function refusedWorkspace(test: TestRepo, result: CliResult, name: string, step: string) {
  expect(hasStackTrace(result.all), result.all).toBe(false);
  expect(result.exitCode, result.all).toBe(1);
  const workspace = workspaceOf(latestSummary(test.root), name);
  expect(workspace.status).toBe("failed");
  expect(workspace.failure?.reason).toBe("integrity");
  expect(workspace.failure?.step).toBe(step);
  return workspace;
}

/** Where a workspace's worktree is under the test's private home (the default workspaces.dir). */
export function worktreeOf(test: TestRepo, name: string): string {
  return path.join(test.home, "workspaces", name);
}

/** Runs git in `cwd` (a worktree) with the test's environment; resolves with its stdout. */
export function gitIn(test: TestRepo, cwd: string, ...args: string[]): Promise<string> {
  return execa("git", args, { cwd, env: gitEnv(test.home) }).then((result) => result.stdout);
}

/**
 * A repository of one task, `id`, whose agent runs `agent` and leaves `check` as check.sh (as the
 * agent would write its test; gitignored, so never committed), which the check script runs. The
 * copied `.env.local` holds `API_TOKEN=<secret>`.
 */
export async function repoWithAgentAndCheck(
  id: string,
  agent: string,
  check: string,
  secret: string,
): Promise<TestRepo> {
  const made = await repoWithConfig(
    {
      workspaces: { copy: [".env.local"] },
      scripts: { check: "sh check.sh" },
      agent: { kind: "command", command: "true" },
      tasks: [
        {
          id,
          prompt: "work, with tests",
          agent: { command: `${agent}\ncat > check.sh <<'CHECK'\n${check}\nCHECK` },
        },
      ],
    },
    { ".gitignore": ".env.local\ncheck.sh\n" },
  );
  writeFileSync(path.join(made.root, ".env.local"), `API_TOKEN=${secret}\n`);
  return made;
}
