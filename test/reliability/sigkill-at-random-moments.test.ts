// `kill -9` of `conductor run` at random moments: the run stays readable, `--resume` finishes it,
// no committed work is lost, the main checkout is untouched and nothing keeps running.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, processesOfRun, repoWithConfig, runIds } from "../helpers/run-repo.js";
import {
  branchTips,
  eventsOf,
  filesContaining,
  gitWithAfterCommit,
  isAncestor,
  killLeftovers,
  makeCheckoutBusy,
  newestRunId,
  pollUntil,
  Random,
  SEED,
  seedFor,
  snapshotCheckout,
  startTracked,
  stepHasStarted,
  stopStarted,
} from "./rig.js";

const TRIALS = Number(process.env.RELIABILITY_KILL_TRIALS ?? 21);
const WORKSPACES = ["a", "b", "c"] as const;

/** Two independent tasks and one that builds on `a`'s branch, each step slow enough to be hit. */
const CONFIG = {
  concurrency: 2,
  workspaces: { copy: [".env.local"] },
  agent: {
    kind: "command",
    // Appends, so a killed try that was not cleaned up would leave two lines behind.
    // Prints the copied secret: logs must show it redacted, also after a resume.
    command:
      'printf "%s\\n" "$CONDUCTOR_TASK_ID" >> work.txt; cat .env.local; sleep 0.3; echo wrote work.txt',
  },
  scripts: { setup: "sleep 0.2", check: "sleep 0.2; test -s work.txt" },
  tasks: [
    { id: "a", prompt: "work on a" },
    { id: "b", prompt: "work on b" },
    { id: "c", prompt: "work on c, after a", depends_on: ["a"] },
  ],
};
const SECRET = "not-for-git-4f2a";
const FILES = { ".gitignore": ".env.local\n", ".env.local": `API_TOKEN=${SECRET}\n` };

/** Where a trial kills conductor: right after a step started (plus a delay), or after the Nth event. */
type Moment =
  | { kind: "step"; workspace: string; step: string; delayMs: number }
  | { kind: "event"; line: number; delayMs: number };

/** Longest delay after a step started that still lands inside it (the step's duration, roughly). */
const STEP_WINDOW_MS: Record<string, number> = {
  worktree: 120,
  copy: 5,
  ports: 15,
  setup: 220,
  agent: 320,
  check: 220,
  commit: 150,
};

/** The trials, all drawn from the seed up front, so a trial's name is enough to replay it. */
function trials(): Moment[] {
  const random = new Random(seedFor("sigkill"));
  const steps = Object.keys(STEP_WINDOW_MS);
  return Array.from({ length: TRIALS }, (_, index): Moment => {
    if (index % 3 === 2)
      return { kind: "event", line: random.int(1, 48), delayMs: random.int(0, 30) };
    const step = steps[Math.floor(index / 3) % steps.length] ?? "agent";
    return {
      kind: "step",
      workspace: random.pick(WORKSPACES),
      step,
      delayMs: random.int(0, STEP_WINDOW_MS[step] ?? 100),
    };
  });
}

function describeMoment(moment: Moment): string {
  return moment.kind === "step"
    ? `${moment.delayMs} ms into ${moment.step} of ${moment.workspace}`
    : `${moment.delayMs} ms after event line ${moment.line}`;
}

/** Steps that were running when each trial killed conductor, printed at the end as coverage. */
const hits: string[] = [];
afterAll(() => {
  const counts = new Map<string, number>();
  for (const hit of hits) counts.set(hit, (counts.get(hit) ?? 0) + 1);
  const table = [...counts].sort().map(([hit, count]) => `${hit}: ${count}`);
  if (hits.length > 0) console.log(`SIGKILL landed in (seed ${SEED}):\n  ${table.join("\n  ")}`);
});

/** The steps started but not finished in the run's events (one entry per workspace). */
function runningSteps(events: readonly Record<string, unknown>[]): string[] {
  const open = new Map<unknown, unknown>();
  for (const event of events) {
    if (event.type === "step.started") open.set(event.workspace, event.step);
    if (event.type === "step.finished") open.delete(event.workspace);
  }
  return [...open.values()].map(String);
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

describe(`SIGKILL of conductor run at random moments (seed ${SEED})`, () => {
  it.each(trials().map((moment, index) => [index + 1, describeMoment(moment), moment] as const))(
    "trial %i, killed %s: status reads the run, --resume finishes it, no commit is lost, the main checkout is untouched, no process is left",
    async (_index, _label, moment) => {
      repo = await repoWithConfig(CONFIG, FILES);
      await makeCheckoutBusy(repo);
      const before = await snapshotCheckout(repo);
      const root = repo.root;

      const child = startTracked(["run", "--output", "plain"], { cwd: root, home: repo.home });
      runId = await pollUntil(() => newestRunId(root), "the run folder");
      const id = runId;
      if (moment.kind === "step") {
        await pollUntil(
          () => stepHasStarted(root, id, moment.workspace, moment.step),
          `${moment.step} of ${moment.workspace}`,
        );
      } else {
        await pollUntil(
          () => eventsOf(root, id).length >= moment.line,
          `event line ${moment.line}`,
        );
      }
      if (moment.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, moment.delayMs));
      child.kill("SIGKILL");
      const killed = await child;
      const tipsAtKill = await branchTips(
        repo,
        WORKSPACES.map((name) => `conductor/${name}`),
      );
      const atKill = eventsOf(root, id);
      const finishedBeforeKill = atKill.some((event) => event.type === "run.finished");
      for (const step of runningSteps(atKill)) hits.push(step);
      if (finishedBeforeKill) hits.push("(after the run finished)");
      const context = `seed ${SEED}, ${describeMoment(moment)}, killed ${killed.signal ?? killed.exitCode}\n${killed.all}`;

      // The killed run reads as interrupted (or as finished, when the kill came after the end).
      const status = await conductor(["status"], { cwd: root, home: repo.home });
      expect(status.exitCode, `${context}\n${status.all}`).toBe(0);
      const json = await conductor(["status", "--json"], { cwd: root, home: repo.home });
      expect(json.exitCode, json.all).toBe(0);
      const read = JSON.parse(json.stdout) as { status: string; runId: string };
      expect(read.runId).toBe(id);
      if (finishedBeforeKill) {
        expect(read.status, context).toBe("succeeded");
      } else {
        expect(read.status, `${context}\n${status.stdout}`).toBe("interrupted");
        expect(status.stdout).toContain(" — interrupted — ");
        expect(status.stdout).toContain(`conductor run --resume ${id}`);
      }

      const resumed = await conductor(["run", "--resume", "--output", "plain"], {
        cwd: root,
        home: repo.home,
      });
      if (finishedBeforeKill) {
        expect(resumed.exitCode, `${context}\n${resumed.all}`).toBe(2);
        expect(resumed.stderr).toContain("already succeeded");
      } else {
        expect(resumed.exitCode, `${context}\n${resumed.all}`).toBe(0);
      }
      expect(runIds(root)).toEqual([id]);

      const summary = latestSummary(root);
      expect(summary.status, context).toBe("succeeded");
      const tips = await branchTips(
        repo,
        WORKSPACES.map((name) => `conductor/${name}`),
      );
      for (const workspace of summary.workspaces) {
        expect(workspace.status, `${workspace.name}: ${context}`).toBe("succeeded");
        const tip = tips[workspace.branch];
        // The record names the commit that is really on the branch.
        expect(workspace.commit, `${workspace.name}: ${context}`).toBe(tip);
        // Exactly one try's work was committed: a killed try left nothing behind (c adds to a's).
        expect(await repo.git("show", `${workspace.branch}:work.txt`)).toBe(
          workspace.task === "c" ? "a\nc" : workspace.task,
        );
        // The copied secret stays out of the commit.
        expect(await repo.git("ls-tree", "--name-only", workspace.branch)).not.toContain(
          ".env.local",
        );
      }
      expect(
        await isAncestor(repo, tips["conductor/a"] as string, tips["conductor/c"] as string),
      ).toBe(true);
      for (const [branch, commit] of Object.entries(tipsAtKill)) {
        const kept = tips[branch] !== undefined && (await isAncestor(repo, commit, tips[branch]));
        expect(kept, `${branch} lost ${commit}: ${context}`).toBe(true);
      }

      // The run still knows what it copied (so the secret stays redacted and out of commits).
      const state = JSON.parse(
        readFileSync(path.join(root, ".conductor", "runs", id, "run.json"), "utf8"),
      ) as {
        workspaces: Record<string, { copied: string[] }>;
      };
      expect(filesContaining(path.join(root, ".conductor", "runs", id), SECRET), context).toEqual(
        [],
      );
      for (const name of WORKSPACES)
        expect(state.workspaces[name]?.copied, name).toEqual([".env.local"]);

      expect(await snapshotCheckout(repo)).toEqual(before);
      expect(processesOfRun(id), context).toEqual([]);
    },
  );
});

describe("a torn event line left by a kill", () => {
  it("does not swallow the first event of the resumed run", async () => {
    repo = await repoWithConfig(CONFIG, FILES);
    const root = repo.root;
    const child = startTracked(["run", "--output", "plain"], { cwd: root, home: repo.home });
    runId = await pollUntil(() => newestRunId(root), "the run folder");
    const id = runId;
    await pollUntil(() => stepHasStarted(root, id, "a", "agent"), "agent of a");
    child.kill("SIGKILL");
    await child;
    // A kill in the middle of a write leaves half a line without its newline.
    const file = path.join(root, ".conductor", "runs", id, "events.jsonl");
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
    const last = lines.at(-1) as string;
    writeFileSync(
      file,
      `${lines.slice(0, -1).join("\n")}\n${last.slice(0, Math.floor(last.length / 2))}`,
    );

    const resumed = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: root,
      home: repo.home,
    });
    expect(resumed.exitCode, resumed.all).toBe(0);
    const starts = eventsOf(root, id).filter((event) => event.type === "run.started");
    expect(starts.map((event) => event.resumed)).toEqual([false, true]);
    const status = await conductor(["status", "--json"], { cwd: root, home: repo.home });
    expect((JSON.parse(status.stdout) as { status: string }).status).toBe("succeeded");
    expect(processesOfRun(id)).toEqual([]);
  });
});

/**
 * Holds git for a second at the end of `git worktree add` (its post-checkout hook) or right after
 * `git commit` has written the commit (a `git` first on PATH: conductor's commit runs no hook),
 * so that conductor can be killed exactly between a git change and the event that records it.
 * Returns the environment conductor needs and a function that waits for the hold and gives the
 * pid of the git process conductor waits on.
 */
function holdGitAt(
  test: TestRepo,
  moment: "post-checkout" | "after-commit",
): { env: Record<string, string>; reached: () => Promise<number> } {
  const hold = path.join(test.home, "hold");
  const held = path.join(test.home, "held");
  const pause = (pid: string) =>
    `if [ -f "${hold}" ]; then rm -f "${hold}"; echo ${pid} > "${held}.tmp"; mv "${held}.tmp" "${held}"; sleep 1; fi`;
  let env: Record<string, string> = {};
  if (moment === "after-commit") env = gitWithAfterCommit(test.home, pause("$$"));
  else {
    const file = path.join(test.root, ".git", "hooks", "post-checkout");
    writeFileSync(file, `#!/bin/sh\n${pause("$PPID")}\n`);
    chmodSync(file, 0o755);
  }
  writeFileSync(hold, "");
  return {
    env,
    reached: async () => {
      await pollUntil(() => existsSync(held), `git to reach the ${moment} hold`);
      return Number(readFileSync(held, "utf8"));
    },
  };
}

/** Whether a process has ended (a zombie that nobody reaps has ended too). */
function ended(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

describe("a kill between a change on disk and the event that records it", () => {
  const single = { ...CONFIG, tasks: [{ id: "a", prompt: "work on a" }] };

  it("right after git worktree add: --resume takes the worktree and branch as its own instead of calling them a conflict", async () => {
    repo = await repoWithConfig(single, FILES);
    const root = repo.root;
    const hold = holdGitAt(repo, "post-checkout");
    const child = startTracked(["run", "--output", "plain"], { cwd: root, home: repo.home });
    const gitPid = await hold.reached();
    child.kill("SIGKILL");
    await child;
    await pollUntil(() => ended(gitPid), "the orphaned git worktree add to finish");
    runId = newestRunId(root) as string;
    const id = runId;
    const recorded = eventsOf(root, id)
      .filter((event) => event.workspace === "a")
      .map((event) => `${event.type} ${event.step ?? ""}`.trim());
    expect(recorded).toEqual(["workspace.started", "step.started worktree"]);
    expect(await repo.git("branch", "--list", "conductor/a")).toContain("conductor/a");

    const resumed = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: root,
      home: repo.home,
    });
    expect(resumed.exitCode, resumed.all).toBe(0);
    const [workspace] = latestSummary(root).workspaces;
    expect(workspace?.status).toBe("succeeded");
    expect(workspace?.commit).toBe((await repo.git("rev-parse", "conductor/a")).trim());
    expect(await repo.git("show", "conductor/a:work.txt")).toBe("a");
    expect(processesOfRun(id)).toEqual([]);
  });

  const BEFORE_CHECKOUT = ': > "$held"; sleep 1; exit 1';

  /**
   * A `git` first on PATH that holds the first checkout of a new worktree (`checkout -f -b`),
   * doing `atCheckout` there, until the test has killed conductor (`held` then exists); and fails
   * the resume's look at git's lock files once when `fail-lock-check` exists in the home folder.
   */
  function gitHoldingTheCheckout(test: TestRepo, atCheckout: string) {
    const held = path.join(test.home, "held");
    const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    const bin = path.join(test.home, "git-at-reset");
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      path.join(bin, "git"),
      [
        "#!/bin/sh",
        `held=${JSON.stringify(held)} real=${JSON.stringify(real)}`,
        // Conductor's own settings (`-c …`) may come before the command.
        // The checkout that makes the new branch, or the reset after a branch made before.
        `if [ ! -e "$held" ]; then case " $* " in *" checkout -f "* | *" reset --hard "*) ${atCheckout} ;; esac; fi`,
        `fail=${JSON.stringify(path.join(test.home, "fail-lock-check"))}`,
        'if [ "$1" = rev-parse ] && [ "$4" = index.lock ] && [ -e "$fail" ]; then',
        '  rm -f "$fail"; echo "fatal: injected failure" >&2; exit 128',
        "fi",
        'exec "$real" "$@"',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    return { env: { PATH: `${bin}:${process.env.PATH ?? ""}` }, held };
  }

  it("between a new worktree's metadata and its checkout, then a new run: the half-made worktree is set aside, its missing files not kept as work", async () => {
    repo = await repoWithConfig(single, { ...FILES, "kept.txt": "from the base commit\n" });
    const root = repo.root;
    const { env, held } = gitHoldingTheCheckout(repo, BEFORE_CHECKOUT);
    const child = startTracked(["run", "--output", "plain"], { cwd: root, home: repo.home, env });
    await pollUntil(() => existsSync(held), "the checkout of the new worktree to start");
    child.kill("SIGKILL");
    await child;
    const first = newestRunId(root) as string;
    const again = await conductor(["run", "--output", "plain"], {
      cwd: root,
      home: repo.home,
      env,
    });
    expect(again.exitCode, again.all).toBe(0);
    runId = newestRunId(root) as string;
    expect(runId).not.toBe(first);
    expect(again.all).not.toContain("uncommitted work");
    expect(await repo.git("for-each-ref", "--format=%(refname)", "refs/conductor/saved/")).toBe("");
    const [done] = latestSummary(root).workspaces;
    expect(done?.status).toBe("succeeded");
    expect(await repo.git("show", "conductor/a:kept.txt")).toBe("from the base commit");
    expect(processesOfRun(runId)).toEqual([]);
  });
  it.each([
    // Ends without the checkout: no branch yet, no index and no files (every file would look
    // deleted).
    ["before the checkout", BEFORE_CHECKOUT, "resume"],
    // The checkout finishes and makes the branch (the pool's shell outlives conductor), the
    // hook has not run.
    ["during the checkout", '"$real" "$@"; rc=$?; : > "$held"; sleep 1; exit $rc', "resume"],
    // The half-made worktree's folder removed by hand before the resume: git keeps its locked
    // entry, and would neither prune it nor add the worktree again.
    ["before the checkout, the folder then removed by hand", BEFORE_CHECKOUT, "remove folder"],
    // The first resume fails in the step before it could finish (git's lock files cannot be
    // checked): the next one must still take the worktree as this workspace's own.
    ["before the checkout, the first resume failing", BEFORE_CHECKOUT, "fail a resume"],
  ] as const)(
    "between a new worktree's metadata and the end of its checkout (%s): --resume finishes the checkout and runs the hook once",
    async (_, atCheckout, then) => {
      repo = await repoWithConfig(single, { ...FILES, "kept.txt": "from the base commit\n" });
      const root = repo.root;
      const hookRuns = path.join(repo.home, "hook-runs");
      const hook = path.join(root, ".git", "hooks", "post-checkout");
      writeFileSync(hook, `#!/bin/sh\necho "$3" >> "${hookRuns}"\n`);
      chmodSync(hook, 0o755);
      const { env, held } = gitHoldingTheCheckout(repo, atCheckout);
      const child = startTracked(["run", "--output", "plain"], { cwd: root, home: repo.home, env });
      await pollUntil(() => existsSync(held), "the checkout of the new worktree to start");
      child.kill("SIGKILL");
      await child;
      runId = newestRunId(root) as string;
      expect(existsSync(hookRuns)).toBe(false);
      if (then === "remove folder") {
        const listed = (await repo.git("worktree", "list", "--porcelain")).split("\n\n");
        const entry = listed.find((lines) => lines.includes("branch refs/heads/conductor/a"));
        const worktree = entry?.split("\n")[0]?.replace(/^worktree /, "") ?? "";
        expect(worktree).not.toBe("");
        rmSync(worktree, { recursive: true, force: true });
      }
      if (then === "fail a resume") {
        writeFileSync(path.join(repo.home, "fail-lock-check"), "");
        const failed = await conductor(["run", "--resume", "--output", "plain"], {
          cwd: root,
          home: repo.home,
          env,
        });
        expect(failed.exitCode, failed.all).toBe(1);
        expect(failed.all).toContain("injected failure");
      }

      const resumed = await conductor(["run", "--resume", "--output", "plain"], {
        cwd: root,
        home: repo.home,
        env,
      });
      expect(resumed.exitCode, resumed.all).toBe(0);
      const [done] = latestSummary(root).workspaces;
      expect(done?.status).toBe("succeeded");
      // The commit holds the agent's work and every file of the base commit: none was lost to a
      // worktree without an index, where they would all have looked deleted.
      expect(await repo.git("show", "conductor/a:kept.txt")).toBe("from the base commit");
      expect(await repo.git("show", "conductor/a:work.txt")).toBe("a");
      expect(await repo.git("diff", "--name-only", "main", "conductor/a")).toBe("work.txt");
      expect(readFileSync(hookRuns, "utf8")).toBe("1\n");
      expect(await repo.git("worktree", "list", "--porcelain")).not.toContain("locked");
      expect(processesOfRun(runId)).toEqual([]);
    },
  );

  it("right after git commit: --resume records the commit that is on the branch and makes no second one", async () => {
    repo = await repoWithConfig(single, FILES);
    const root = repo.root;
    const base = (await repo.git("rev-parse", "main")).trim();
    const hold = holdGitAt(repo, "after-commit");
    const child = startTracked(["run", "--output", "plain"], {
      cwd: root,
      home: repo.home,
      env: hold.env,
    });
    const gitPid = await hold.reached();
    child.kill("SIGKILL");
    await child;
    await pollUntil(() => ended(gitPid), "the orphaned git commit to finish");
    runId = newestRunId(root) as string;
    const id = runId;
    const last = eventsOf(root, id).at(-1);
    expect(last).toMatchObject({ type: "step.started", step: "commit" });
    const committed = (await repo.git("rev-parse", "conductor/a")).trim();
    expect(committed).not.toBe(base);

    const resumed = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: root,
      home: repo.home,
    });
    expect(resumed.exitCode, resumed.all).toBe(0);
    const [workspace] = latestSummary(root).workspaces;
    expect(workspace?.status).toBe("succeeded");
    expect(workspace?.commit).toBe(committed);
    expect(workspace?.diff).toEqual({ files: 1, insertions: 1, deletions: 0 });
    expect((await repo.git("rev-parse", "conductor/a")).trim()).toBe(committed);
    expect(processesOfRun(id)).toEqual([]);
  });

  it("right after the copy: --resume still counts the copied secret file as copied, so it stays redacted and uncommitted", async () => {
    repo = await repoWithConfig(
      {
        ...single,
        agent: {
          kind: "command",
          command: `cat .env.local; echo a > work.txt; touch "$HOME/in-agent"; while [ ! -f "$HOME/go" ]; do sleep 0.05; done`,
        },
      },
      FILES,
    );
    const root = repo.root;
    const child = startTracked(["run", "--output", "plain"], { cwd: root, home: repo.home });
    const home = repo.home;
    await pollUntil(() => existsSync(path.join(home, "in-agent")), "the agent");
    child.kill("SIGKILL");
    await child;
    runId = newestRunId(root) as string;
    const id = runId;
    // The kill is placed just after the copy by cutting the record there: the worktree and its
    // copied .env.local exist; no event after `step.started copy` was written. (What the killed
    // agent did is undone by the resumed one, which starts from the branch again.)
    const dir = path.join(root, ".conductor", "runs", id);
    const lines = readFileSync(path.join(dir, "events.jsonl"), "utf8").split("\n");
    const cut = lines.findIndex(
      (line) => line.includes('"step.started"') && line.includes('"step":"copy"'),
    );
    writeFileSync(path.join(dir, "events.jsonl"), `${lines.slice(0, cut + 1).join("\n")}\n`);
    rmSync(path.join(dir, "workspaces"), { recursive: true, force: true });
    writeFileSync(path.join(home, "go"), "");

    const resumed = await conductor(["run", "--resume", "--output", "plain"], { cwd: root, home });
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(filesContaining(dir, SECRET)).toEqual([]);
    expect(resumed.all).not.toContain(SECRET);
    const state = JSON.parse(readFileSync(path.join(dir, "run.json"), "utf8")) as {
      workspaces: Record<string, { copied: string[] }>;
    };
    expect(state.workspaces.a?.copied).toEqual([".env.local"]);
    expect(await repo.git("ls-tree", "--name-only", "conductor/a")).not.toContain(".env.local");
    expect(processesOfRun(id)).toEqual([]);
  });
});
