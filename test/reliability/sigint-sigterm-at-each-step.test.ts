// Ctrl-C (SIGINT), SIGTERM and SIGHUP at every step of a workspace: conductor exits 130 and every
// process group it started is gone within the grace period, grandchildren included.
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findOnPath } from "../../src/process/find-on-path.js";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, processesOfRun, repoWithConfig } from "../helpers/run-repo.js";
import { isRunning } from "../helpers/running.js";
import {
  gitWithAfterCommit,
  killLeftovers,
  newestRunId,
  pollUntil,
  startTracked,
  stepHasStarted,
  stopStarted,
} from "./rig.js";

/** conductor's grace period between SIGTERM and SIGKILL of a process group (process.ts). */
const GRACE_MS = 5000;
/** Room for a busy 2-core machine on top of the time the step itself needs to stop. */
const SLACK_MS = 4000;

type Step = "worktree" | "setup" | "agent" | "check" | "commit";
const STEPS: readonly Step[] = ["worktree", "setup", "agent", "check", "commit"];
// SIGHUP: the terminal was closed; it must not orphan anything either.
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * A step that does not end by itself: a child, a grandchild that left its parent (still in the
 * process group), then `$HOME/ready` once both run. `stubborn` also ignores SIGTERM.
 */
function hang(stubborn: boolean): string {
  const trap = stubborn ? "trap '' TERM; " : "";
  return `${trap}sleep 300 & (sleep 301 &); touch "$HOME/ready"; wait`;
}

/** Config whose `step` hangs (setup, agent, check), or a plain one for git steps held by a hook. */
function configHangingIn(step: Step, stubborn = false) {
  return {
    concurrency: 2,
    agent: { kind: "command", command: step === "agent" ? hang(stubborn) : "echo work > work.txt" },
    scripts: {
      setup: step === "setup" ? hang(stubborn) : "true",
      check: step === "check" ? hang(stubborn) : "true",
    },
    tasks: [
      { id: "one", prompt: "1" },
      { id: "two", prompt: "2" },
    ],
  };
}

/**
 * Holds git until the test lets it go, so a signal lands while conductor waits for git: in the
 * post-checkout hook that ends `git worktree add`, or right after `git commit` (conductor's commit
 * runs no hook: a `git` first on PATH holds it). Git steps are not cancelled half way: conductor
 * waits for git, then stops. Returns the release file and the environment conductor needs.
 */
function holdGit(
  repo: TestRepo,
  step: "worktree" | "commit",
  marker: string,
): { release: string; env: Record<string, string> } {
  const release = path.join(repo.home, "release");
  const hold = `touch "${marker}"; while [ ! -f "${release}" ]; do sleep 0.05; done`;
  if (step === "commit") return { release, env: gitWithAfterCommit(repo.home, hold) };
  const file = path.join(repo.root, ".git", "hooks", "post-checkout");
  writeFileSync(file, `#!/bin/sh\n${hold}\n`);
  chmodSync(file, 0o755);
  return { release, env: {} };
}

/** Process group of a live process (field 5 of /proc/<pid>/stat). */
function groupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
  } catch {
    return undefined;
  }
}

/** Live (non-zombie) members of the given process groups. */
function liveMembers(groups: ReadonlySet<number>): number[] {
  const live: number[] = [];
  for (const entry of readdirProc()) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && groups.has(Number(fields[2]))) live.push(entry);
    } catch {
      // gone meanwhile
    }
  }
  return live;
}

function readdirProc(): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

let repo: TestRepo | undefined;
let runId: string | undefined;
afterEach(async () => {
  stopStarted();
  killLeftovers(runId);
  await repo?.remove();
  repo = undefined;
  runId = undefined;
});

describe.each(SIGNALS)("%s", (signal) => {
  it.each(STEPS)(
    `during %s: conductor exits 130 and every process group it started is gone within the grace period`,
    async (step) => {
      repo = await repoWithConfig(configHangingIn(step));
      const marker = path.join(repo.home, "ready");
      const held =
        step === "worktree" || step === "commit" ? holdGit(repo, step, marker) : undefined;
      const release = held?.release;
      const root = repo.root;
      const child = startTracked(["run", "--output", "plain"], {
        cwd: root,
        home: repo.home,
        ...(held === undefined ? {} : { env: held.env }),
      });
      runId = await pollUntil(() => newestRunId(root), "the run folder");
      const id = runId;
      await pollUntil(() => existsSync(marker), `${step} to be under way`);
      expect(stepHasStarted(root, id, "one", step) || stepHasStarted(root, id, "two", step)).toBe(
        true,
      );
      const groups = new Set(
        processesOfRun(id)
          .map(groupOf)
          .filter((group): group is number => group !== undefined),
      );

      const signalled = Date.now();
      child.kill(signal);
      // A git step is waited for, not cancelled: let git finish once conductor has the signal.
      if (release) {
        await pollUntil(
          () =>
            readFileSync(
              path.join(root, ".conductor", "runs", id, "events.jsonl"),
              "utf8",
            ).includes('"run.interrupting"'),
          "conductor to take the signal",
        );
        writeFileSync(release, "");
      }
      const result = await child;
      const took = Date.now() - signalled;

      expect(result.exitCode, result.all).toBe(130);
      expect(took, result.all).toBeLessThan(GRACE_MS + SLACK_MS);
      expect(liveMembers(groups), `process groups ${[...groups].join(", ")}`).toEqual([]);
      expect(processesOfRun(id)).toEqual([]);
      expect(latestSummary(root).status).toBe("interrupted");
    },
  );
});

describe("a step that ignores SIGTERM", () => {
  it.each(["setup", "agent", "check"] as const)(
    "in %s: is killed with SIGKILL after the grace period and conductor still exits 130",
    async (step) => {
      repo = await repoWithConfig(configHangingIn(step, true));
      const marker = path.join(repo.home, "ready");
      const root = repo.root;
      const child = startTracked(["run", "--output", "plain"], { cwd: root, home: repo.home });
      runId = await pollUntil(() => newestRunId(root), "the run folder");
      const id = runId;
      await pollUntil(() => existsSync(marker), `${step} to be under way`);
      const groups = new Set(
        processesOfRun(id)
          .map(groupOf)
          .filter((group): group is number => group !== undefined),
      );
      const signalled = Date.now();
      child.kill("SIGINT");
      const result = await child;
      const took = Date.now() - signalled;
      expect(result.exitCode, result.all).toBe(130);
      expect(took).toBeLessThan(GRACE_MS + SLACK_MS);
      expect(liveMembers(groups)).toEqual([]);
      expect(processesOfRun(id)).toEqual([]);
    },
  );
});

describe("a grandchild that left the process group", () => {
  it("(setsid, its own session) is gone too when conductor stops on SIGINT", async () => {
    repo = await repoWithConfig({
      agent: {
        kind: "command",
        command: 'setsid sleep 302 & sleep 300 & touch "$HOME/ready"; wait',
      },
      tasks: [{ id: "one", prompt: "1" }],
    });
    const root = repo.root;
    const child = startTracked(["run", "--output", "plain"], { cwd: root, home: repo.home });
    runId = await pollUntil(() => newestRunId(root), "the run folder");
    const id = runId;
    await pollUntil(
      () => existsSync(path.join(repo?.home ?? "", "ready")),
      "the agent to be under way",
    );
    await pollUntil(() => processesOfRun(id).length >= 3, "the agent's children");
    const signalled = Date.now();
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);
    expect(Date.now() - signalled).toBeLessThan(GRACE_MS + SLACK_MS);
    expect(processesOfRun(id)).toEqual([]);
  });

  it("(setsid) holding the output pipe does not keep a finished step, or the run, from ending", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "setsid sleep 303 & echo work > work.txt" },
      tasks: [{ id: "one", prompt: "1" }],
    });
    const started = Date.now();
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    runId = latestSummary(repo.root).runId;
    expect(result.exitCode, result.all).toBe(0);
    expect(Date.now() - started).toBeLessThan(GRACE_MS + 15_000);
    expect(processesOfRun(runId)).toEqual([]);
  });

  it("and scrubbed its environment is ended with its step all the same (the reaper), leaving the run its work", async () => {
    repo = await repoWithConfig({
      agent: {
        kind: "command",
        command:
          'env -i HOME="$HOME" setsid sh -c \'cd /; echo $$ > "$HOME/escaped.tmp"; mv "$HOME/escaped.tmp" "$HOME/escaped.pid"; exec sleep 304\' & ' +
          'while [ ! -s "$HOME/escaped.pid" ]; do sleep 0.05; done; echo work > work.txt',
      },
      tasks: [{ id: "one", prompt: "1" }],
    });
    const pidFile = path.join(repo.home, "escaped.pid");
    let pid: number | undefined;
    try {
      const started = Date.now();
      const result = await conductor(["run", "--output", "plain"], {
        cwd: repo.root,
        home: repo.home,
      });
      pid = Number(readFileSync(pidFile, "utf8"));
      expect(result.exitCode, result.all).toBe(0);
      expect(Date.now() - started).toBeLessThan(GRACE_MS + 15_000);
      expect(await repo.git("show", "conductor/one:work.txt")).toBe("work");
      // Linux with Perl (this project's CI): found through the subreaper, not its environment.
      if (process.platform === "linux" && findOnPath("perl") !== undefined)
        expect(isRunning(pid), `process ${pid}`).toBe(false);
    } finally {
      if (pid !== undefined && isRunning(pid)) process.kill(pid, "SIGKILL");
    }
  });
});
