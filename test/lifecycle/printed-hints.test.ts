// Every command conductor prints as a next step works when pasted as printed: it carries the -C
// and -c in use, and it is the right step (continue after a failed check, run --resume for the
// dependents it held back).
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type ReviewRepo, reviewRepo, runAll, waitFor } from "../review/rig.js";
import { printedCommands, runAsPrinted } from "./hints.js";

let repo: ReviewRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** A task set in ci/tasks.yaml (not the default file), run from a folder outside the repository. */
async function taskSetElsewhere(config: Record<string, unknown>): Promise<ReviewRepo> {
  const current = await reviewRepo([{ id: "unused" }]);
  await mkdir(path.join(current.root, "ci"), { recursive: true });
  await current.write({
    "ci/tasks.yaml": stringify({
      version: 1,
      workspaces: { dir: path.join(current.home, "ci-workspaces") },
      ...config,
    }),
  });
  await current.commitAll("a task set of its own");
  return current;
}

describe("printed hints work as printed", () => {
  it("after a failed check: continue fixes it, then run --resume runs the dependent it held back", async () => {
    // The check passes once the agent has written fixed.txt; the first try does not.
    repo = await taskSetElsewhere({
      agent: {
        kind: "command",
        command:
          'case "$CONDUCTOR_PROMPT" in *"<what to change>"*) echo ok > fixed.txt;; *) echo "$CONDUCTOR_TASK_ID" > "$CONDUCTOR_TASK_ID.txt";; esac',
      },
      scripts: { check: 'test "$CONDUCTOR_TASK_ID" != fix-average || test -f fixed.txt' },
      tasks: [
        { id: "fix-average", prompt: "Fix the average" },
        { id: "report", prompt: "Report on it", depends_on: ["fix-average"] },
      ],
    });
    const outside = repo.home; // a folder outside the repository
    const where = { cwd: outside, home: repo.home };
    const run = await runAsPrinted(
      `conductor -C ${repo.root} -c ci/tasks.yaml run --output plain`,
      where,
    );
    expect(run.exitCode, run.all).toBe(1);
    const runId = repo.runIds().at(-1) as string;
    const hints = printedCommands(run.stdout);
    const prefix = `conductor -C ${repo.root} -c ci/tasks.yaml`;
    expect(hints).toEqual([
      `${prefix} logs fix-average`,
      `${prefix} continue fix-average "<what to change>"`,
      `${prefix} run --resume ${runId}`,
    ]);
    expect(run.stdout).not.toMatch(/^\s+fix-average\s.*run --resume/m);

    const logs = await runAsPrinted(hints[0] as string, where);
    expect(logs.exitCode, logs.all).toBe(0);
    const followUp = await runAsPrinted(`${hints[1] as string} --output plain`, where);
    expect(followUp.exitCode, followUp.all).toBe(0);
    const afterFollowUp = printedCommands(followUp.stdout);
    expect(afterFollowUp).toEqual([
      `${prefix} diff fix-average`,
      `${prefix} run --resume ${runId}`,
    ]);
    expect(followUp.stdout).toContain("report waits for it: run it with");
    const resumed = await runAsPrinted(`${afterFollowUp[1] as string} --output plain`, where);
    expect(resumed.exitCode, resumed.all).toBe(0);
    const status = await runAsPrinted(`${prefix} status`, where);
    expect(status.stdout).toMatch(/^report\s+succeeded\s/m);
    expect(status.stdout).toMatch(/^fix-average\s+succeeded\s/m);
  });

  it("after an agent leaves HEAD off its branch: plain output prints the whole message, and the printed `logs` works", async () => {
    // Worktrees deep enough that their path is longer than a short line.
    const deep = path.join(os.tmpdir(), `conductor-hints-${"a-rather-long-folder-name".repeat(6)}`);
    repo = await reviewRepo(
      [
        {
          id: "a",
          agent: "git checkout -q --orphan elsewhere && git commit -q --allow-empty -m elsewhere",
        },
      ],
      { workspaces: { dir: path.join(deep, String(process.pid)) } },
    );
    const worktree = path.join(deep, String(process.pid), "a");
    try {
      const where = { cwd: repo.root, home: repo.home };
      const run = await runAsPrinted("conductor run --output plain", where);
      expect(run.exitCode, run.all).toBe(1);
      expect(run.stdout).toContain(`[a] ✖ failed after `);
      // Longer than a line: where the agent's commit is kept, and HEAD back on the branch.
      const whole =
        /nothing was committed; its commits there are kept as refs\/conductor\/saved\/[\w-]+\/a\/1-head; HEAD is back on conductor\/a(?:;|$)/m;
      expect(run.stdout).toMatch(whole);
      expect((await execa("git", ["-C", worktree, "symbolic-ref", "HEAD"])).stdout).toBe(
        "refs/heads/conductor/a",
      );
      const [logs] = printedCommands(run.stdout);
      expect(logs).toBe("conductor logs a");
      const printed = await runAsPrinted(logs as string, where);
      expect(printed.exitCode, printed.all).toBe(0);
      expect(printed.stdout).toMatch(whole);
    } finally {
      await rm(deep, { recursive: true, force: true });
    }
  });

  it("after an agent exits 4 printing nothing: the printed `logs` says so, and how it failed", async () => {
    repo = await reviewRepo([{ id: "a", agent: "exit 4" }]);
    const where = { cwd: repo.root, home: repo.home };
    const run = await runAsPrinted("conductor run --output plain", where);
    expect(run.exitCode, run.all).toBe(1);
    const [logs] = printedCommands(run.stdout);
    expect(logs).toBe("conductor logs a");

    const printed = await runAsPrinted(logs as string, where);
    expect(printed.exitCode, printed.all).toBe(0);
    expect(printed.stdout).toBe(
      "a failed: agent failed (exit 4)\nNo agent log: its agent step printed nothing.",
    );
    // Asked for that log by name, it is still refused: there is none.
    const named = await runAsPrinted("conductor logs a --step agent", where);
    expect(named.exitCode, named.all).toBe(2);
  });

  it("after Ctrl-C of `conductor -c FILE run`, the printed resume carries -c and resumes", async () => {
    repo = await taskSetElsewhere({
      agent: {
        kind: "command",
        command:
          'if [ -f "$CONDUCTOR_ROOT_PATH/go" ]; then echo done > done.txt; else touch "$CONDUCTOR_ROOT_PATH/started"; sleep 30; fi',
      },
      tasks: [{ id: "slow", prompt: "take your time" }],
    });
    const child = repo.start(["-c", "ci/tasks.yaml", "run", "--output", "plain"]);
    await waitFor("the agent to start", () =>
      existsSync(path.join(repo?.root as string, "started")),
    );
    child.kill("SIGINT");
    const interrupted = await child;
    expect(interrupted.exitCode, interrupted.all).toBe(130);
    const runId = repo.runIds().at(-1) as string;
    const [resume] = printedCommands(interrupted.stderr);
    expect(resume).toBe(`conductor -c ci/tasks.yaml run --resume ${runId}`);
    await writeFile(path.join(repo.root, "go"), "");
    const resumed = await runAsPrinted(`${resume as string} --output plain`, {
      cwd: repo.root,
      home: repo.home,
    });
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(resumed.all).not.toContain("the plan changed");
    const [review] = printedCommands(resumed.stdout);
    expect(review).toBe("conductor -c ci/tasks.yaml status");
    const status = await runAsPrinted(review as string, { cwd: repo.root, home: repo.home });
    expect(status.stdout).toMatch(/^slow\s+succeeded\s/m);
  });

  it("continue on an archived workspace names its branch, and the git command it prints checks it out again", async () => {
    repo = await reviewRepo([
      { id: "one", agent: "echo one > one.txt" },
      { id: "two", agent: "echo two > two.txt" },
    ]);
    expect((await runAll(repo)).exitCode).toBe(0);
    expect((await repo.cli(["archive", "one"])).exitCode).toBe(0);
    const refused = await repo.cli(["continue", "one", "more"]);
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr).toContain("workspace one of run");
    expect(refused.stderr).toContain("was archived");
    expect(refused.stderr).not.toContain("--resume");
    const gitCommand = /`(git worktree add [^`]+)`/.exec(refused.stderr)?.[1] as string;
    expect(gitCommand).toContain("conductor/one");
    const restored = await execa("sh", ["-c", gitCommand], {
      cwd: repo.root,
      reject: false,
      all: true,
    });
    expect(restored.exitCode, restored.all).toBe(0);
    expect(readFileSync(path.join(repo.worktree("one"), "one.txt"), "utf8")).toBe("one\n");
  });

  it("with -C from outside the repository, the git commands an archived workspace's hints print work from there", async () => {
    repo = await reviewRepo([
      { id: "one", agent: "echo one > one.txt" },
      { id: "two", agent: "echo two > two.txt" },
    ]);
    const outside = { cwd: repo.home, home: repo.home };
    const prefix = `conductor -C ${repo.root}`;
    expect((await runAsPrinted(`${prefix} run --output plain`, outside)).exitCode).toBe(0);
    expect((await runAsPrinted(`${prefix} archive one`, outside)).exitCode).toBe(0);
    // Kept branch: `open` and `continue` name the git command that checks it out again.
    const refused = await runAsPrinted(`${prefix} open one`, outside);
    expect(refused.exitCode, refused.all).toBe(2);
    const checkout = /`(git [^`]+)`/.exec(refused.stderr)?.[1] as string;
    expect(checkout, refused.stderr).toContain("worktree add");
    const restored = await runAsPrinted(checkout, outside);
    expect(restored.exitCode, restored.all).toBe(0);
    expect(readFileSync(path.join(repo.worktree("one"), "one.txt"), "utf8")).toBe("one\n");

    // A later run takes the branch name of `two` (archived first): its work is kept on a ref,
    // and the `git branch` printed makes it a branch again.
    expect((await runAsPrinted(`${prefix} archive two`, outside)).exitCode).toBe(0);
    const first = repo.runIds().at(-1) as string;
    expect((await runAsPrinted(`${prefix} run two --output plain`, outside)).exitCode).toBe(0);
    const kept = await runAsPrinted(`${prefix} continue two more --run ${first}`, outside);
    expect(kept.exitCode, kept.all).toBe(2);
    const branch = /`(git [^`]+)`/.exec(kept.stderr)?.[1] as string;
    expect(branch, kept.stderr).toContain("branch conductor/two-kept");
    const made = await runAsPrinted(branch, outside);
    expect(made.exitCode, made.all).toBe(0);
    expect(await repo.git("show", "conductor/two-kept:two.txt")).toBe("two");
  });

  it("a folder in place of a log: the mv printed moves it away, in a repository whose path holds a quote", async () => {
    repo = await reviewRepo([{ id: "quiet", agent: "echo working" }]);
    // Moved before any run: nothing records the repository's path yet.
    const root = path.join(path.dirname(repo.root), `it's "repo"`);
    await rename(repo.root, root);
    const where = { cwd: root, home: repo.home };
    expect((await runAsPrinted("conductor run --output plain", where)).exitCode).toBe(0);
    const runId = (await readdir(path.join(root, ".conductor", "runs")))[0] as string;
    const log = path.join(root, ".conductor", "runs", runId, "workspaces", "quiet", "agent.log");
    await rm(log);
    await mkdir(log);
    const refused = await runAsPrinted("conductor logs quiet", where);
    expect(refused.exitCode, refused.all).toBe(2);
    const move = /move it away: `?(mv .+?)`?$/m.exec(refused.stderr)?.[1] as string;
    expect(move, refused.stderr).toBeDefined();
    const moved = await runAsPrinted(move, where);
    expect(moved.exitCode, moved.all).toBe(0);
    expect(existsSync(`${log}.moved`)).toBe(true);
    expect(existsSync(log)).toBe(false);
  });

  it("exec without a command, of an earlier run: the example printed keeps --run", async () => {
    repo = await reviewRepo([{ id: "one" }, { id: "two" }]);
    const where = { cwd: repo.root, home: repo.home };
    expect((await runAsPrinted("conductor run one --output plain", where)).exitCode).toBe(0);
    const first = repo.runIds().at(-1) as string;
    expect((await runAsPrinted("conductor run two --output plain", where)).exitCode).toBe(0);
    const refused = await runAsPrinted(`conductor exec one --run ${first}`, where);
    expect(refused.exitCode, refused.all).toBe(2);
    const example = /e\.g\. `?(conductor .+?)`?$/m.exec(refused.stderr)?.[1];
    expect(example).toBe(`conductor exec one --run ${first} -- npm test`);
    expect(printedCommands(refused.stderr)).toEqual([example]);
    // The example's command is the user's to choose: one that shows where it ran.
    const ran = await runAsPrinted((example as string).replace("npm test", "pwd"), where);
    expect(ran.exitCode, ran.all).toBe(0);
    expect(ran.stdout).toBe(repo.worktree("one"));
  });

  it("the run folder a succeeded run names is there from where it was started: a subfolder, or -C from outside", async () => {
    repo = await reviewRepo([{ id: "good" }]);
    await mkdir(path.join(repo.root, "src", "deep"), { recursive: true });
    const outside = await mkdtemp(path.join(os.tmpdir(), "conductor-elsewhere-"));
    try {
      for (const [cwd, args] of [
        [path.join(repo.root, "src", "deep"), []],
        [outside, ["-C", repo.root]],
        [repo.root, []],
      ] as const) {
        const ran = await runAsPrinted(
          `conductor ${[...args, "run", "--output", "plain"].join(" ")}`,
          {
            cwd,
            home: repo.home,
          },
        );
        expect(ran.exitCode, ran.all).toBe(0);
        const folder = /; state in (\S+)$/m.exec(ran.stdout)?.[1];
        expect(folder, ran.stdout).toBeDefined();
        expect(path.resolve(cwd, folder as string)).toBe(repo.runDir());
        expect(existsSync(path.resolve(cwd, folder as string, "summary.json"))).toBe(true);
      }
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
