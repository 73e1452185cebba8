// Running the same file again: an earlier finished run gives way with nothing lost, a live one
// is named as live, and neither needs a git command.
import { existsSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { processAlive, type ReviewRepo, reviewRepo, runAll, waitFor } from "../review/rig.js";
import { printedCommands, runAsPrinted } from "./hints.js";

let repo: ReviewRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** The commit a ref points at, or "" when it does not exist. */
async function tip(current: ReviewRepo, ref: string): Promise<string> {
  return (await current.git("for-each-ref", "--format=%(objectname)", ref)).trim();
}

/** Whether `commit` is reachable from some ref of the repository. */
/** A new repository at `folder` with one commit of `n.txt` that exists nowhere else. */
async function repositoryWithACommit(current: ReviewRepo, folder: string): Promise<string> {
  await current.git("init", "-q", folder);
  await writeFile(path.join(folder, "n.txt"), "only here\n");
  await current.git("-C", folder, "add", "n.txt");
  await current.git(
    "-C",
    folder,
    "-c",
    "user.name=t",
    "-c",
    "user.email=t@example.com",
    "commit",
    "-q",
    "-m",
    "nested",
  );
  return folder;
}

async function reachable(current: ReviewRepo, commit: string): Promise<boolean> {
  const refs = (await current.git("for-each-ref", "--contains", commit, "--format=%(refname)"))
    .split("\n")
    .filter(Boolean);
  return refs.length > 0;
}

describe("running the same file again", () => {
  it("run → run: the second run takes the names, the first run's branches and work are kept on refs", async () => {
    repo = await reviewRepo([{ id: "hello" }, { id: "world" }]);
    const first = await runAll(repo);
    expect(first.exitCode, first.all).toBe(0);
    const [firstRun] = repo.runIds() as [string];
    const firstHello = await tip(repo, "refs/heads/conductor/hello");
    const firstWorld = await tip(repo, "refs/heads/conductor/world");
    // A reviewer's uncommitted edit in one worktree, and a copied-style scratch file.
    await writeFile(path.join(repo.worktree("hello"), "review-notes.txt"), "looks good\n");

    const second = await runAll(repo);
    expect(second.exitCode, second.all).toBe(0);
    const secondRun = repo.runIds().at(-1) as string;
    expect(secondRun).not.toBe(firstRun);
    expect(second.stderr).toContain(
      `conductor: kept the earlier run ${firstRun} (conductor.yaml, succeeded): ` +
        `branches as refs/conductor/runs/${firstRun}/{hello,world}, ` +
        `uncommitted work as refs/conductor/saved/${firstRun}/hello/retired; this run takes the branch names. ` +
        `See it with \`conductor status --run ${firstRun}\``,
    );
    // Nothing lost: the first run's commits are on the kept refs, the edit on its saved ref.
    expect(await tip(repo, `refs/conductor/runs/${firstRun}/hello`)).toBe(firstHello);
    expect(await tip(repo, `refs/conductor/runs/${firstRun}/world`)).toBe(firstWorld);
    expect(await reachable(repo, firstHello)).toBe(true);
    expect(
      await repo.git("show", `refs/conductor/saved/${firstRun}/hello/retired:review-notes.txt`),
    ).toBe("looks good");
    // The new run owns the plain names and fresh worktrees.
    expect(await tip(repo, "refs/heads/conductor/hello")).not.toBe(firstHello);
    expect(existsSync(path.join(repo.worktree("hello"), "review-notes.txt"))).toBe(false);
    expect((await repo.cli(["status"])).stdout).toContain(`run ${secondRun}`);

    // The printed hint works as printed and shows the first run's workspaces where they went.
    const [hint] = printedCommands(second.stderr);
    const shown = await runAsPrinted(hint as string, { cwd: repo.root, home: repo.home });
    expect(shown.exitCode, shown.all).toBe(0);
    expect(shown.stdout).toMatch(
      new RegExp(
        `^hello\\s+archived\\s.*refs/conductor/runs/${firstRun}/hello\\s+\\(removed\\)$`,
        "m",
      ),
    );
    // The first run's diff reads its kept ref, not the branch the second run now owns.
    const diff = await repo.cli(["diff", "hello", "--run", firstRun, "--stat"]);
    expect(diff.exitCode, diff.all).toBe(0);
    expect(diff.stdout).toContain("hello.txt");
    // Archiving the old run's workspace never touches the new run's branch.
    const archived = await repo.cli(["archive", "hello", "--run", firstRun, "--delete-branch"]);
    expect(archived.stdout).toContain("hello: already archived");
    // Nor does pr propose the new run's branch for the old run's workspace.
    const pr = await repo.cli(["pr", "hello", "--run", firstRun]);
    expect(pr.exitCode, pr.all).toBe(2);
    expect(pr.stderr).toContain(
      `hello: a later run took the name conductor/hello; this run's work is kept as refs/conductor/runs/${firstRun}/hello`,
    );
    expect(await tip(repo, "refs/heads/conductor/hello")).not.toBe("");
  });

  it("a failed run's resume, pasted after a second run set it aside, says so and names the hints that work", async () => {
    repo = await reviewRepo([{ id: "hello" }, { id: "broken", agent: "exit 3" }]);
    const first = await runAll(repo);
    expect(first.exitCode, first.all).toBe(1);
    const [firstRun] = repo.runIds() as [string];
    expect((await runAll(repo)).exitCode).toBe(1);
    // As a failed commit's hint says it (`once the cause is fixed, conductor run --resume <run>`).
    const stale = await runAsPrinted(`conductor run --resume ${firstRun}`, {
      cwd: repo.root,
      home: repo.home,
    });
    expect(stale.exitCode, stale.all).toBe(2);
    expect(stale.stderr).toContain(`run ${firstRun} was set aside`);
    expect(stale.stderr).toContain("there is nothing to resume");
    // Its hints work as printed: the set-aside run's status, and the latest run's resume.
    const hints = printedCommands(stale.stderr);
    expect(hints).toEqual([`conductor status --run ${firstRun}`, "conductor run --resume"]);
    const status = await runAsPrinted(hints[0] as string, { cwd: repo.root, home: repo.home });
    expect(status.exitCode, status.all).toBe(0);
    expect(status.stdout).toMatch(/^broken\s+archived\s/m);
    const latest = await runAsPrinted(hints[1] as string, { cwd: repo.root, home: repo.home });
    expect(latest.all).toContain(`run ${repo.runIds().at(-1)} resumed`);
  });

  it("run → archive --all → clean → run succeeds with no git command, and the earlier commits stay reachable", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    expect((await runAll(repo)).exitCode).toBe(0);
    const firstRun = repo.runIds()[0] as string;
    const firstHello = await tip(repo, "refs/heads/conductor/hello");
    const archived = await repo.cli(["archive", "--all"]);
    expect(archived.exitCode, archived.all).toBe(0);
    expect(archived.stdout).toContain("kept branch conductor/hello");
    const cleaned = await repo.cli(["clean"]);
    expect(cleaned.exitCode, cleaned.all).toBe(0);
    expect(cleaned.stdout).toContain(`removed run folder .conductor/runs/${firstRun}`);
    expect(repo.runIds()).toEqual([]);

    const again = await runAll(repo);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stderr).toContain(
      `conductor: kept the earlier run ${firstRun} (conductor.yaml, cleaned): branches as refs/conductor/runs/${firstRun}/hello; this run takes the branch names`,
    );
    expect(await tip(repo, `refs/conductor/runs/${firstRun}/hello`)).toBe(firstHello);
    expect(await reachable(repo, firstHello)).toBe(true);
    expect((await repo.cli(["status"])).stdout).toMatch(/^hello\s+succeeded\s/m);
  });

  it("refuses while the run holding the branches is live, naming it and its pid, and changes nothing", async () => {
    repo = await reviewRepo([
      { id: "slow", agent: 'touch "$CONDUCTOR_ROOT_PATH/started"; sleep 30' },
    ]);
    const live = repo.start(["run", "--output", "plain"]);
    try {
      await waitFor("the agent to start", () =>
        existsSync(path.join(repo?.root as string, "started")),
      );
      const runId = repo.runIds()[0] as string;
      const refused = await repo.cli(["run", "--output", "plain"]);
      expect(refused.exitCode, refused.all).toBe(2);
      expect(refused.stderr).toContain(
        `run ${runId} (conductor.yaml) is still running (live, pid ${live.pid})`,
      );
      expect(refused.stderr).not.toContain("earlier");
      expect(refused.stderr).toContain(`\`kill -INT ${live.pid}\``);
      expect(repo.runIds()).toEqual([runId]);
      const [status] = printedCommands(refused.stderr);
      const shown = await runAsPrinted(status as string, { cwd: repo.root, home: repo.home });
      expect(shown.stdout).toContain(`run ${runId} — running (live, pid ${live.pid})`);
    } finally {
      live.kill("SIGINT");
      await live;
    }
  });

  it("refuses a branch that no run made, changing nothing", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    await repo.git("branch", "conductor/hello");
    const refused = await repo.cli(["run", "--output", "plain"]);
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr).toContain("branch conductor/hello: no run of this repository made it");
    expect(refused.stderr).toContain("workspaces.branch / workspaces.dir in conductor.yaml");
    expect(repo.runIds()).toEqual([]);
    expect(await repo.git("for-each-ref", "refs/conductor/")).toBe("");
  });

  it("keeps a detached HEAD's commits that no ref holds on a saved ref before removing the worktree", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    expect((await runAll(repo)).exitCode).toBe(0);
    // Someone detached HEAD in the finished workspace and committed there: no ref holds it.
    const worktree = repo.worktree("hello");
    await repo.git("-C", worktree, "checkout", "-q", "--detach");
    await writeFile(path.join(worktree, "d.txt"), "detached\n");
    await repo.git("-C", worktree, "add", "d.txt");
    await repo.git("-C", worktree, "commit", "-q", "-m", "on a detached HEAD");
    const firstRun = repo.runIds()[0] as string;
    const detached = (await repo.git("-C", repo.worktree("hello"), "rev-parse", "HEAD")).trim();
    expect(await reachable(repo, detached)).toBe(false);

    const second = await runAll(repo);
    expect(second.stderr).toContain(
      `detached HEAD commits as refs/conductor/saved/${firstRun}/hello/head`,
    );
    expect(await tip(repo, `refs/conductor/saved/${firstRun}/hello/head`)).toBe(detached);
    expect(await reachable(repo, detached)).toBe(true);
  });

  it("never retires another config file's run: refuses naming it, with a remedy that works as printed", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    // A second config file whose branch and folder templates give the same names.
    await writeFile(
      path.join(repo.root, "other.yaml"),
      await readFile(path.join(repo.root, "conductor.yaml"), "utf8"),
    );
    await repo.git("add", "other.yaml");
    await repo.git("commit", "-q", "-m", "add other.yaml");
    expect((await runAll(repo, [])).exitCode).toBe(0);
    const mine = repo.runIds()[0] as string;
    const other = await repo.cli(["-c", "other.yaml", "run", "--output", "plain"]);
    // other.yaml's run must not retire conductor.yaml's run either.
    expect(other.exitCode, other.all).toBe(2);
    expect(other.stderr).toContain(
      `branch conductor/hello: workspace hello of run ${mine} (conductor.yaml)`,
    );
    expect(repo.runIds()).toEqual([mine]);
    const mineHello = await tip(repo, "refs/heads/conductor/hello");
    expect(mineHello).not.toBe("");
    expect(await repo.git("for-each-ref", "refs/conductor/")).toBe("");

    // The remedy archives conductor.yaml's workspace once its work is merged.
    await repo.git("merge", "-q", "--ff-only", "conductor/hello");
    const [remedy] = printedCommands(other.stderr);
    expect(remedy).toBe(`conductor -c conductor.yaml archive hello --run ${mine} --delete-branch`);
    const archived = await runAsPrinted(remedy as string, { cwd: repo.root, home: repo.home });
    expect(archived.exitCode, archived.all).toBe(0);
    const again = await repo.cli(["-c", "other.yaml", "run", "--output", "plain"]);
    expect(again.exitCode, again.all).toBe(0);
    expect(await reachable(repo, mineHello)).toBe(true);
  });

  it("Ctrl-C while an earlier workspace's archive script runs ends the script and exits 130", async () => {
    repo = await reviewRepo([{ id: "hello" }], {
      scripts: {
        archive:
          'echo $$ > "$CONDUCTOR_ROOT_PATH/archive.pid"; sleep 30; touch "$CONDUCTOR_ROOT_PATH/archive.done"',
      },
    });
    expect((await runAll(repo)).exitCode).toBe(0);
    const firstHello = await tip(repo, "refs/heads/conductor/hello");
    const pidFile = path.join(repo.root, "archive.pid");
    const second = repo.start(["run", "--output", "plain"]);
    await waitFor("the archive script to start", () => existsSync(pidFile));
    const scriptPid = Number((await readFile(pidFile, "utf8")).trim());
    second.kill("SIGINT");
    const result = await second;
    expect(result.exitCode, result.all).toBe(130);
    expect(result.stderr).toContain("interrupted");
    await waitFor("the archive script to end", () => !processAlive(scriptPid), 5_000);
    expect(existsSync(path.join(repo.root, "archive.done"))).toBe(false);
    // Nothing lost, and no new run started.
    expect(repo.runIds()).toHaveLength(1);
    expect(await reachable(repo, firstHello)).toBe(true);
  });

  it("refuses, removing nothing, when an earlier worktree holds a nested repository's own commits", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    expect((await runAll(repo)).exitCode).toBe(0);
    const worktree = repo.worktree("hello");
    const nested = await repositoryWithACommit(repo, path.join(worktree, "nested"));
    await repo.git("-C", worktree, "add", "nested");
    const branchTip = await tip(repo, "refs/heads/conductor/hello");

    const refused = await runAll(repo);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain(
      "nested repository nested has 1 commit in none of its remotes",
    );
    expect(refused.stderr).toContain("nothing was removed");
    expect(existsSync(path.join(nested, "n.txt"))).toBe(true);
    expect(await tip(repo, "refs/heads/conductor/hello")).toBe(branchTip);
    expect(repo.runIds()).toHaveLength(1);
  });
  it("refuses, removing nothing, when an earlier worktree holds untracked repositories: with commits only there (also one folder down), or with no commit", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    expect((await runAll(repo)).exitCode).toBe(0);
    const worktree = repo.worktree("hello");
    // An agent's `git clone` + commit, and its `git init` of a scaffold it never committed.
    const cloned = await repositoryWithACommit(repo, path.join(worktree, "cloned"));
    // One folder down in an untracked folder, which git shows as the folder alone.
    const deeper = await repositoryWithACommit(repo, path.join(worktree, "vendor", "lib"));
    // A worktree of the repository itself holds nothing only the worktree has.
    await repo.git("-C", worktree, "worktree", "add", "-q", "--detach", "inner");
    const scaffold = path.join(worktree, "scaffold");
    await repo.git("init", "-q", scaffold);
    await writeFile(path.join(scaffold, "s.txt"), "in no commit\n");
    const branchTip = await tip(repo, "refs/heads/conductor/hello");

    const refused = await runAll(repo);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain(
      "nested repository cloned has 1 commit in none of its remotes",
    );
    expect(refused.stderr).toContain(
      "nested repository scaffold has no commit, so git cannot keep its files on a ref",
    );
    expect(refused.stderr).toContain(
      "nested repository vendor/lib has 1 commit in none of its remotes",
    );
    expect(refused.stderr).not.toContain("nested repository inner");
    expect(refused.stderr).toContain("nothing was removed");
    expect(refused.stderr).not.toContain("internal error");
    expect(readFileSync(path.join(scaffold, "s.txt"), "utf8")).toBe("in no commit\n");
    expect(existsSync(path.join(cloned, "n.txt"))).toBe(true);
    expect(existsSync(path.join(deeper, "n.txt"))).toBe(true);
    expect(await tip(repo, "refs/heads/conductor/hello")).toBe(branchTip);
    expect(repo.runIds()).toHaveLength(1);
  });

  it("never lets a nested repository the agent made fetch a missing object (its ssh command is a program)", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    expect((await runAll(repo)).exitCode).toBe(0);
    const nested = path.join(repo.worktree("hello"), "lazy");
    await repo.git("init", "-q", nested);
    // A partial clone whose HEAD's parent is missing: git would ask the promisor remote for it.
    const tree = (await repo.git("-C", nested, "write-tree")).trim();
    const parent = "1".repeat(40);
    const commit = `tree ${tree}\nparent ${parent}\nauthor a <a@b> 1 +0000\ncommitter a <a@b> 1 +0000\n\nx\n`;
    const head = await execa(
      "git",
      ["hash-object", "-t", "commit", "--literally", "-w", "--stdin"],
      {
        cwd: nested,
        input: commit,
      },
    );
    await repo.git("-C", nested, "update-ref", "HEAD", head.stdout.trim());
    const mark = path.join(repo.home, "ssh-ran");
    for (const [key, value] of [
      ["core.repositoryformatversion", "1"],
      ["extensions.partialClone", "origin"],
      ["remote.origin.url", "ssh://example.invalid/r"],
      ["remote.origin.promisor", "true"],
      ["core.sshCommand", `touch '${mark}'`],
    ] as const) {
      await repo.git("-C", nested, "config", key, value);
    }

    const archived = await repo.cli(["archive", "hello"]);
    expect(archived.exitCode, archived.all).toBe(1);
    expect(archived.stderr).toContain("nested repository lazy has history git cannot read");
    const again = await runAll(repo);
    expect(again.exitCode, again.all).toBe(1);
    expect(again.stderr).toContain("nested repository lazy has history git cannot read");
    expect(existsSync(mark)).toBe(false);
    expect(repo.runIds()).toHaveLength(1);
  });
});
