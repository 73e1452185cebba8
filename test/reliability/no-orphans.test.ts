// No process conductor started outlives what started it: a closed terminal (SIGHUP) stops `run`,
// `continue` and `serve` like SIGTERM; daemons that left their process group are ended after
// each step and at `archive`; a second signal during a commit leaves no `git add` holding
// `index.lock`.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, processesOfRun, repoWithConfig } from "../helpers/run-repo.js";
import { killLeftovers, newestRunId, pollUntil, startTracked, stopStarted } from "./rig.js";

/** conductor's grace period between SIGTERM and SIGKILL of a process group (groups.ts). */
const GRACE_MS = 5000;
/** Room for a busy 2-core machine on top of the time the step itself needs to stop. */
const SLACK_MS = 4000;

/** A step that never ends by itself: a child and a grandchild, then `$HOME/ready`. */
const HANG = 'sleep 300 & (sleep 301 &); touch "$HOME/ready"; wait';

let repo: TestRepo | undefined;
let runId: string | undefined;
afterEach(async () => {
  stopStarted();
  killLeftovers(runId);
  if (repo) for (const pid of processesMentioning(repo.home)) kill(pid);
  await repo?.remove();
  repo = undefined;
  runId = undefined;
});

function kill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Live (non-zombie) processes whose command line mentions `text` (Linux). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "latin1").replaceAll("\0", " ");
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      const zombie = stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
      if (!zombie && cmdline.includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

describe("SIGHUP (the terminal was closed) stops like SIGTERM", () => {
  it("conductor continue: exit 130, the agent's processes are gone, the workspace is interrupted", async () => {
    repo = await repoWithConfig({
      agent: {
        kind: "command",
        command: `if [ "$CONDUCTOR_PROMPT" = hang ]; then ${HANG}; else echo work > work.txt; fi`,
      },
      tasks: [{ id: "one", prompt: "1" }],
    });
    const root = repo.root;
    const first = await conductor(["run", "--output", "plain"], { cwd: root, home: repo.home });
    expect(first.exitCode, first.all).toBe(0);
    runId = latestSummary(root).runId;
    const id = runId;
    const child = startTracked(["continue", "one", "hang", "--output", "plain"], {
      cwd: root,
      home: repo.home,
    });
    await pollUntil(() => existsSync(path.join(repo?.home ?? "", "ready")), "the agent to hang");
    await pollUntil(() => processesOfRun(id).length >= 3, "the agent's children");
    const signalled = Date.now();
    child.kill("SIGHUP");
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);
    expect(Date.now() - signalled).toBeLessThan(GRACE_MS + SLACK_MS);
    expect(processesOfRun(id)).toEqual([]);
    const one = latestSummary(root).workspaces.find((workspace) => workspace.name === "one");
    expect(one?.status).toBe("interrupted");
  });

  it("conductor serve: exit 130 and the dev server with its children is gone", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "echo work > work.txt" },
      scripts: { run: HANG },
      tasks: [{ id: "web", prompt: "1" }],
    });
    const root = repo.root;
    const first = await conductor(["run", "--output", "plain"], { cwd: root, home: repo.home });
    expect(first.exitCode, first.all).toBe(0);
    runId = latestSummary(root).runId;
    const id = runId;
    const child = startTracked(["serve", "web"], { cwd: root, home: repo.home });
    await pollUntil(() => existsSync(path.join(repo?.home ?? "", "ready")), "the dev server");
    await pollUntil(() => processesOfRun(id).length >= 3, "the dev server's children");
    const signalled = Date.now();
    child.kill("SIGHUP");
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);
    expect(Date.now() - signalled).toBeLessThan(GRACE_MS + SLACK_MS);
    expect(processesOfRun(id)).toEqual([]);
  });
});

describe("daemons that left their process group (setsid nohup … &)", () => {
  it("are ended when their step succeeds, before the next step starts", async () => {
    repo = await repoWithConfig({
      scripts: {
        setup: 'setsid nohup sleep 1001 >/dev/null 2>&1 & echo $! > "$HOME/setup-daemon.pid"',
        check: "setsid nohup sleep 1002 >/dev/null 2>&1 &",
      },
      agent: {
        kind: "command",
        command:
          // A zombie (killed, not yet reaped by init) runs nothing: only a live state counts.
          'p=$(cat "$HOME/setup-daemon.pid"); s=$(sed "s/.*) //" /proc/$p/stat 2>/dev/null | cut -c1); if [ -n "$s" ] && [ "$s" != Z ]; then echo alive; else echo gone; fi > daemon.txt; setsid nohup sleep 1003 >/dev/null 2>&1 &',
      },
      tasks: [{ id: "one", prompt: "1" }],
    });
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    runId = latestSummary(repo.root).runId;
    expect(result.exitCode, result.all).toBe(0);
    expect(await repo.git("show", "conductor/one:daemon.txt")).toBe("gone");
    expect(processesOfRun(runId)).toEqual([]);
  });

  it("left behind by a killed conductor are ended by archive", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: `setsid sleep 1004 & ${HANG}` },
      tasks: [{ id: "one", prompt: "1" }],
    });
    const root = repo.root;
    const child = startTracked(["run", "--output", "plain"], { cwd: root, home: repo.home });
    runId = await pollUntil(() => newestRunId(root), "the run folder");
    const id = runId;
    await pollUntil(() => existsSync(path.join(repo?.home ?? "", "ready")), "the agent to hang");
    await pollUntil(() => processesOfRun(id).length >= 4, "the agent and its daemon");
    child.kill("SIGKILL");
    await child;
    expect(processesOfRun(id).length).toBeGreaterThanOrEqual(4);
    const archived = await conductor(["archive", "one", "--force"], { cwd: root, home: repo.home });
    expect(archived.exitCode, archived.all).toBe(0);
    expect(processesOfRun(id)).toEqual([]);
  });
});

describe("a second SIGTERM while conductor commits", () => {
  it("ends conductor's own git children: no git add is left holding index.lock, and resume succeeds", async () => {
    repo = await repoWithConfig(
      {
        agent: { kind: "command", command: "echo data > big.slow" },
        tasks: [{ id: "one", prompt: "1" }],
      },
      { ".gitattributes": "*.slow filter=slow\n" },
    );
    const home = repo.home;
    const filtering = path.join(home, "filtering");
    const release = path.join(home, "release");
    // A clean filter that holds `git add` (and so the worktree's index.lock) until released.
    await repo.git(
      "config",
      "filter.slow.clean",
      `touch "${filtering}"; while [ ! -f "${release}" ]; do sleep 0.05; done; cat`,
    );
    const root = repo.root;
    const child = startTracked(["run", "--output", "plain"], { cwd: root, home });
    runId = await pollUntil(() => newestRunId(root), "the run folder");
    const id = runId;
    await pollUntil(() => existsSync(filtering), "git add to run the filter");
    const lock = path.join(root, ".git", "worktrees", "one", "index.lock");
    expect(existsSync(lock)).toBe(true);
    const filters = processesMentioning(release);
    expect(filters.length).toBeGreaterThan(0);

    child.kill("SIGTERM");
    await pollUntil(
      () =>
        readFileSync(path.join(root, ".conductor", "runs", id, "events.jsonl"), "utf8").includes(
          '"run.interrupting"',
        ),
      "conductor to take the first signal",
    );
    child.kill("SIGTERM");
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);

    // Git removes its lock when it gets SIGTERM; an orphaned git add would keep it until the
    // filter ends, which here is never.
    await pollUntil(() => !existsSync(lock), "index.lock to go", 5000).catch(() => undefined);
    expect(existsSync(lock)).toBe(false);
    expect(filters.filter(alive)).toEqual([]);
    expect(processesMentioning(release)).toEqual([]);

    writeFileSync(release, "");
    const resumed = await conductor(["run", "--resume", "--output", "plain"], { cwd: root, home });
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(await repo.git("show", "conductor/one:big.slow")).toBe("data");
  });
});
