// The commit step's one shell, on real repositories: what it commits, what it leaves out, and the
// two diffs it measures (the new commit against its parent, the branch against its start), which
// it reads in fewer git processes when they are the same diff.
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  askCommitIdentity,
  type CommitIdentity,
  NEUTRAL_IDENTITY,
} from "../../src/git/commit-identity.js";
import { commitWork, parseNumstat } from "../../src/git/commit-work.js";
import { worktreeStatus } from "../../src/git/worktree.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** A new repository on branch `work`, in place of the test's earlier one (removed first). */
async function onBranch(): Promise<{ test: TestRepo; start: string }> {
  await repo?.remove();
  const test = await createTestRepo({ "README.md": "# r\n", "a.txt": "a\n" });
  repo = test;
  const start = (await test.git("rev-parse", "HEAD")).trim();
  await test.git("switch", "-q", "-c", "work");
  return { test, start };
}

/** Who the commits are by: not the test repository's own config (see the identity test). */
const IDENTITY: CommitIdentity = {
  authorName: "Ada Author",
  authorEmail: "ada@example.com",
  committerName: "Cy Committer",
  committerEmail: "cy@example.com",
};

/** commitWork of the branch `work` since `start`; `seen`: HEAD and status the caller read. */
const commit = (
  test: TestRepo,
  start: string,
  exclude: string[] = [],
  seen?: { head: string; status: string },
) =>
  commitWork(test.root, {
    message: "the work",
    exclude,
    from: start,
    branch: "work",
    identity: IDENTITY,
    ...seen,
  });

/**
 * What commitWork returns for a first commit on the branch, HEAD now, of `files` files and
 * `insertions` lines added: the commit's diff and the branch's are the same.
 */
async function firstCommit(test: TestRepo, files: number, insertions: number) {
  const head = (await test.git("rev-parse", "HEAD")).trim();
  const stat = { files, insertions, deletions: 0 };
  return { commit: head, head, commitDiff: stat, diff: stat };
}

describe("commitWork", () => {
  it("commits the work but not the excluded paths, and measures a first commit once for both diffs", async () => {
    const { test, start } = await onBranch();
    await test.write({ "a.txt": "a\nb\nc\n", "new.txt": "n\n", ".env.local": "TOKEN=x\n" });
    const done = await commit(test, start, [".env.local"]);
    expect(done).toEqual(await firstCommit(test, 2, 3));
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

  it("runs none of the repository's hooks, so none can fail the commit or fake its size", async () => {
    const { test, start } = await onBranch();
    const hooks = path.join(test.root, ".git", "hooks");
    for (const hook of ["pre-commit", "commit-msg", "post-commit"]) {
      await writeFile(
        path.join(hooks, hook),
        `#!/bin/sh\necho " 99 files changed, 99 insertions(+)"\ntouch "${hooks}/ran-${hook}"\nexit 1\n`,
        { mode: 0o755 },
      );
    }
    await test.write({ "a.txt": "a\nb\n" });
    const done = await commit(test, start);
    expect(done).toMatchObject({ commitDiff: { files: 1, insertions: 1, deletions: 0 } });
    expect(await test.git("log", "-1", "--format=%s")).toBe("the work");
    const ran = (await readdir(hooks)).filter((name) => name.startsWith("ran-"));
    expect(ran).toEqual([]);
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

  /**
   * commitWork as the commit step calls it: HEAD seen on the branch (at `start` unless `head`
   * says), the worktree's status `seen`.
   */
  const commitSeen = (
    test: TestRepo,
    start: string,
    seen: string,
    options: { exclude?: string[]; head?: string } = {},
  ) => commit(test, start, options.exclude, { head: options.head ?? start, status: seen });

  /**
   * Runs `work` with GIT_TRACE on (and `env` set, undefined to unset), and returns what it gave
   * and the git commands it ran.
   */
  async function traced<T>(
    test: TestRepo,
    work: () => Promise<T>,
    env: Record<string, string | undefined> = {},
  ) {
    const trace = path.join(test.root, "..", `trace-${process.pid}.log`);
    const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
    const set = (values: Record<string, string | undefined>) => {
      for (const [name, value] of Object.entries(values)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    };
    set({ ...env, GIT_TRACE: trace });
    let done: T;
    try {
      done = await work();
    } finally {
      set({ ...saved, GIT_TRACE: undefined });
    }
    const text = await readFile(trace, "utf8").catch(() => "");
    await rm(trace, { force: true });
    return { done, gits: text.match(/built-in: git [a-z-]+/g) ?? [] };
  }

  it("trusts the verified HEAD, and still keeps out the excluded paths the status shows", async () => {
    const { test, start } = await onBranch();
    await test.write({ "a.txt": "a\nb\n", ".context/notes.md": "mine\n", "keep.txt": "k\n" });
    const seen = await status(test);
    const { done, gits } = await traced(test, () =>
      commitSeen(test, start, seen, { exclude: [".context", "keep.txt"] }),
    );
    // HEAD is not asked of git again: stage, unstage what the status shows, commit (its size
    // read from git's summary).
    expect(gits).toEqual(["built-in: git add", "built-in: git reset", "built-in: git commit"]);
    const committed = await firstCommit(test, 1, 1);
    expect(done).toEqual(committed);
    expect(await test.git("show", "--name-only", "--format=", "HEAD")).toBe("a.txt");
    expect((await test.git("rev-parse", "work")).trim()).toBe(committed.commit);
  });

  it("runs no git at all when the status shows nothing but excluded paths", async () => {
    const { test, start } = await onBranch();
    await test.write({ ".context/notes.md": "mine\n" });
    const seen = await status(test);
    const { done, gits } = await traced(test, () =>
      commitSeen(test, start, seen, { exclude: [".context"] }),
    );
    expect(gits).toEqual([]);
    expect(done).toEqual({
      commit: undefined,
      head: start,
      commitDiff: undefined,
      diff: { files: 0, insertions: 0, deletions: 0 },
    });
  });

  it("lets git commit --all stage the work when only tracked files changed: one git process", async () => {
    const { test, start } = await onBranch();
    await test.write({ "a.txt": "a\nb\n", "README.md": "# r\nmore\n" });
    const seen = await status(test);
    const { done, gits } = await traced(test, () => commitSeen(test, start, seen));
    expect(gits).toEqual(["built-in: git commit"]);
    expect(done).toEqual(await firstCommit(test, 2, 2));
    expect(await test.git("show", "--name-only", "--format=", "HEAD")).toBe("README.md\na.txt");
    expect(await test.git("status", "--porcelain")).toBe("");
  });

  it("stages with git add when a change is new, deleted, already staged or kept out", async () => {
    // Each of these is one git commit --all would get wrong: a new file it does not add, a kept
    // path it would commit, what the index holds already (the status's first column).
    const cases: Array<{
      files?: Record<string, string>;
      change?: (test: TestRepo) => Promise<unknown>;
    }> = [
      { files: { "a.txt": "a\nb\n", "new.txt": "n\n" } },
      { change: (test) => rm(path.join(test.root, "a.txt")) },
      { files: { "a.txt": "a\nb\n" }, change: (test) => test.git("add", "a.txt") },
    ];
    for (const { files, change } of cases) {
      const { test, start } = await onBranch();
      if (files) await test.write(files);
      await change?.(test);
      const seen = await status(test);
      const { gits } = await traced(test, () => commitSeen(test, start, seen));
      expect(gits).toEqual(["built-in: git add", "built-in: git commit"]);
      expect(await test.git("status", "--porcelain")).toBe("");
    }
    const { test, start } = await onBranch();
    await test.write({ ".context/notes.md": "mine\n" });
    await test.commitAll("a tracked context file");
    const tracked = (await test.git("rev-parse", "HEAD")).trim();
    await test.write({ "a.txt": "a\nb\n", ".context/notes.md": "mine, edited\n" });
    const seen = await status(test);
    const { gits } = await traced(test, () =>
      commitSeen(test, start, seen, { exclude: [".context"], head: tracked }),
    );
    // The branch measured from its start after (its earlier commit makes it another diff).
    expect(gits).toEqual([
      "built-in: git add",
      "built-in: git reset",
      "built-in: git commit",
      "built-in: git diff",
    ]);
    expect(await test.git("show", "--name-only", "--format=", "HEAD")).toBe("a.txt");
    expect(await test.git("status", "--porcelain")).toBe(" M .context/notes.md");
  });

  it("commits nothing when what the status showed stages nothing, and says so", async () => {
    // Statuses that show what the worktree does not hold (a file gone, a tracked file changed
    // that is as committed again): git commit refuses with nothing staged. The second goes
    // through git commit --all alone, as only a tracked file is shown changed.
    const cases: Array<[string, string[]]> = [
      ["?? gone.txt\0", ["built-in: git add", "built-in: git commit", "built-in: git diff"]],
      [" M a.txt\0", ["built-in: git commit", "built-in: git diff"]],
    ];
    for (const [shown, expected] of cases) {
      const { test, start } = await onBranch();
      const { done, gits } = await traced(test, () => commitSeen(test, start, shown));
      expect(gits).toEqual(expected);
      expect(done).toEqual({
        commit: undefined,
        head: start,
        commitDiff: undefined,
        diff: { files: 0, insertions: 0, deletions: 0 },
      });
      expect((await test.git("rev-parse", "work")).trim()).toBe(start);
    }
  });

  it("commits under the identity given, whatever the repository's config says by then", async () => {
    const { test, start } = await onBranch();
    // As a check script could have set it, to a secret of the workspace's env file.
    await test.git("config", "user.name", "set by a check");
    await test.git("config", "user.email", "sk-live-from-env@example.com");
    await test.write({ "new.txt": "n\n" });
    const done = await commit(test, start);
    expect(done).toMatchObject({ commitDiff: { files: 1, insertions: 1, deletions: 0 } });
    expect(await test.git("log", "-1", "--format=%an <%ae>|%cn <%ce>")).toBe(
      "Ada Author <ada@example.com>|Cy Committer <cy@example.com>",
    );
  });

  it("asks the identity as git commit would read it, and a neutral one where git has none", async () => {
    const { test } = await onBranch();
    await test.git("config", "user.name", "Config Name");
    await test.git("config", "user.email", "config@example.com");
    await test.git("config", "committer.name", "Config Committer");
    const configured = { GIT_AUTHOR_NAME: undefined, GIT_COMMITTER_NAME: undefined };
    const { done: asked } = await traced(test, () => askCommitIdentity(test.root), configured);
    expect(asked).toEqual({
      authorName: "Config Name",
      authorEmail: "config@example.com",
      committerName: "Config Committer",
      committerEmail: "config@example.com",
    });
    await test.git("config", "--unset", "user.name");
    await test.git("config", "--unset", "user.email");
    await test.git("config", "--unset", "committer.name");
    await test.git("config", "user.useConfigOnly", "true");
    const noIdentity = {
      HOME: test.home,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: undefined,
      GIT_AUTHOR_EMAIL: undefined,
      GIT_COMMITTER_NAME: undefined,
      GIT_COMMITTER_EMAIL: undefined,
      EMAIL: undefined,
    };
    const { done: none } = await traced(test, () => askCommitIdentity(test.root), noIdentity);
    expect(none).toEqual(NEUTRAL_IDENTITY);
  });

  it("measures a commit of deletions, renames and a binary file as git diff --numstat does", async () => {
    const { test, start } = await onBranch();
    await test.write({ "b.txt": "1\n2\n3\n4\n5\n6\n7\n8\n" });
    await test.commitAll("more");
    const before = (await test.git("rev-parse", "HEAD")).trim();
    await rm(path.join(test.root, "a.txt"));
    await test.git("mv", "b.txt", "c.txt");
    await writeFile(path.join(test.root, "blob.bin"), Buffer.from([0, 1, 2, 0, 255]));
    const done = await commitWork(test.root, {
      message: "the work",
      exclude: [],
      from: start,
      branch: "work",
      identity: IDENTITY,
      head: before,
      status: await status(test),
    });
    const numstat = (await test.git("diff", "--numstat", before, "HEAD")).trim().split("\n");
    expect(numstat).toHaveLength(3);
    if ("headElsewhere" in done) throw new Error("HEAD left the branch");
    expect(done.commitDiff).toEqual(parseNumstat(numstat));
    expect(done.commitDiff).toEqual({ files: 3, insertions: 0, deletions: 1 });
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
      identity: IDENTITY,
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
      identity: IDENTITY,
    });
    const head = (await test.git("rev-parse", "HEAD")).trim();
    expect(done).toMatchObject({ commit: head, head });
  });
});
