// The commit step's one shell, on real repositories: what it commits, what it leaves out, and the
// two diffs it measures (the new commit against its parent, the branch against its start), which
// it reads in fewer git processes when they are the same diff.
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { commitWork } from "../../src/git/commit-work.js";
import { worktreeStatus } from "../../src/git/worktree.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

async function onBranch(): Promise<{ test: TestRepo; start: string }> {
  const test = await createTestRepo({ "README.md": "# r\n", "a.txt": "a\n" });
  repo = test;
  const start = (await test.git("rev-parse", "HEAD")).trim();
  await test.git("switch", "-q", "-c", "work");
  return { test, start };
}

const commit = (test: TestRepo, start: string, exclude: string[] = []) =>
  commitWork(test.root, { message: "the work", exclude, from: start, branch: "work" });

describe("commitWork", () => {
  it("commits the work but not the excluded paths, and measures a first commit once for both diffs", async () => {
    const { test, start } = await onBranch();
    await test.write({ "a.txt": "a\nb\nc\n", "new.txt": "n\n", ".env.local": "TOKEN=x\n" });
    const done = await commit(test, start, [".env.local"]);
    const head = (await test.git("rev-parse", "HEAD")).trim();
    expect(done).toEqual({
      commit: head,
      head,
      commitDiff: { files: 2, insertions: 3, deletions: 0 },
      diff: { files: 2, insertions: 3, deletions: 0 },
    });
    expect(await test.git("show", "--name-only", "--format=", "HEAD")).toBe("a.txt\nnew.txt");
    expect(await test.git("log", "-1", "--format=%s")).toBe("the work");
  });

  it("measures the branch from its start when it already had commits of its own", async () => {
    const { test, start } = await onBranch();
    await test.write({ "earlier.txt": "1\n2\n" });
    await test.commitAll("the agent's own commit");
    await test.write({ "later.txt": "3\n" });
    const done = await commit(test, start);
    expect(done).toMatchObject({
      commitDiff: { files: 1, insertions: 1, deletions: 0 },
      diff: { files: 2, insertions: 3, deletions: 0 },
    });
  });

  it("with nothing to commit, reports where the branch is and what it holds since its start", async () => {
    const { test, start } = await onBranch();
    expect(await commit(test, start)).toEqual({
      commit: undefined,
      head: start,
      commitDiff: undefined,
      diff: { files: 0, insertions: 0, deletions: 0 },
    });
    await test.write({ "earlier.txt": "1\n" });
    await test.commitAll("the agent's own commit");
    const head = (await test.git("rev-parse", "HEAD")).trim();
    expect(await commit(test, start)).toEqual({
      commit: undefined,
      head,
      commitDiff: undefined,
      diff: { files: 1, insertions: 1, deletions: 0 },
    });
  });

  it("reports an empty branch diff when the branch's commits cancel out, not the new commit's", async () => {
    const { test, start } = await onBranch();
    await test.write({ "a.txt": "changed\n" });
    await test.commitAll("change a");
    await test.write({ "a.txt": "a\n" });
    const done = await commit(test, start);
    expect(done).toMatchObject({
      commitDiff: { files: 1, insertions: 1, deletions: 1 },
      diff: { files: 0, insertions: 0, deletions: 0 },
    });
  });

  it("commits a merge the agent left staged, measured against its first parent", async () => {
    const { test, start } = await onBranch();
    await test.git("switch", "-q", "-c", "side", start);
    await test.write({ "side.txt": "s\ns\n" });
    await test.commitAll("side work");
    await test.git("switch", "-q", "work");
    await test.git("merge", "-q", "--no-commit", "--no-ff", "side");
    await test.write({ "mine.txt": "m\n" });
    const done = await commit(test, start);
    if ("headElsewhere" in done) throw new Error("HEAD left the branch");
    expect((await test.git("log", "-1", "--format=%P")).split(" ")).toHaveLength(2);
    expect(done.commitDiff).toEqual({ files: 2, insertions: 3, deletions: 0 });
    expect(done.diff).toEqual({ files: 2, insertions: 3, deletions: 0 });
  });

  it("commits nothing when HEAD is not on the workspace branch", async () => {
    const { test, start } = await onBranch();
    await test.git("switch", "-q", "--detach");
    await test.write({ "x.txt": "x\n" });
    expect(await commit(test, start)).toEqual({ headElsewhere: `a detached HEAD at ${start}` });
    expect((await test.git("rev-parse", "work")).trim()).toBe(start);
  });
});

describe("commitWork after the agent step's verification", () => {
  const status = (test: TestRepo) => worktreeStatus(test.root);

  it("trusts the verified HEAD, and still keeps out the excluded paths the status shows", async () => {
    const { test, start } = await onBranch();
    await test.write({ "a.txt": "a\nb\n", ".context/notes.md": "mine\n", "keep.txt": "k\n" });
    const seen = await status(test);
    const trace = path.join(test.root, "..", `trace-${process.pid}.log`);
    process.env.GIT_TRACE = trace;
    let done: Awaited<ReturnType<typeof commitWork>>;
    try {
      done = await commitWork(test.root, {
        message: "the work",
        exclude: [".context", "keep.txt"],
        from: start,
        branch: "work",
        head: start,
        status: seen,
      });
    } finally {
      delete process.env.GIT_TRACE;
    }
    const gits = (await readFile(trace, "utf8")).match(/built-in: git [a-z-]+/g);
    await rm(trace, { force: true });
    // HEAD is not asked of git again: stage, unstage what the status shows, measure, commit.
    expect(gits).toEqual([
      "built-in: git add",
      "built-in: git reset",
      "built-in: git diff",
      "built-in: git commit",
    ]);
    const head = (await test.git("rev-parse", "HEAD")).trim();
    expect(done).toEqual({
      commit: head,
      head,
      commitDiff: { files: 1, insertions: 1, deletions: 0 },
      diff: { files: 1, insertions: 1, deletions: 0 },
    });
    expect(await test.git("show", "--name-only", "--format=", "HEAD")).toBe("a.txt");
    expect((await test.git("rev-parse", "work")).trim()).toBe(head);
  });

  it("checks HEAD again when it left the branch after the verification", async () => {
    const { test, start } = await onBranch();
    await test.write({ "x.txt": "x\n" });
    const seen = await status(test);
    await test.git("switch", "-q", "--detach");
    const done = await commitWork(test.root, {
      message: "the work",
      exclude: [],
      from: start,
      branch: "work",
      head: start,
      status: seen,
    });
    expect(done).toEqual({ headElsewhere: `a detached HEAD at ${start}` });
    expect((await test.git("rev-parse", "work")).trim()).toBe(start);
  });

  it("reads the new commit's id even where git's summary line cannot be parsed", async () => {
    const { test, start } = await onBranch();
    // A bracket in the branch name cuts the summary line early: the id is asked of git instead.
    await test.git("branch", "-m", "work", "wo]rk");
    await test.write({ "a.txt": "b\n" });
    const done = await commitWork(test.root, {
      message: "the [work]",
      exclude: [],
      from: start,
      branch: "wo]rk",
    });
    const head = (await test.git("rev-parse", "HEAD")).trim();
    expect(done).toMatchObject({ commit: head, head });
  });
});
