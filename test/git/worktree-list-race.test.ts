import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runGit } from "../../src/git/run-git.js";
import { failedOnBranchLock, listWorktrees } from "../../src/git/worktree.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";
import { addFirstWorkspace } from "../helpers/workspace-worktree.js";

describe("listing and adding worktrees while another process adds one", () => {
  let repo: TestRepo | undefined;
  afterEach(async () => {
    await repo?.remove();
    repo = undefined;
  });

  it("waits out a half-written worktree entry instead of failing", async () => {
    repo = await createTestRepo();
    // What `git worktree add` of another conductor run leaves for a moment: the entry's folder
    // with its gitdir, and a commondir not written yet. git stops at it with
    // "failed to read .git/worktrees/ghost/commondir: Success".
    const entry = path.join(repo.root, ".git", "worktrees", "ghost");
    mkdirSync(entry, { recursive: true });
    writeFileSync(path.join(entry, "gitdir"), "/nowhere/ghost/.git\n");
    writeFileSync(path.join(entry, "commondir"), "");
    const finished = setTimeout(() => rmSync(entry, { recursive: true, force: true }), 200);
    try {
      const worktrees = await listWorktrees(repo.root);
      expect(worktrees.map((worktree) => path.basename(worktree.path))).toEqual([
        path.basename(repo.root),
      ]);
    } finally {
      clearTimeout(finished);
    }
  });

  /**
   * Puts a half-written worktree entry ("ghost") in place for 300 ms the moment
   * `conductor/one` is first made, through a reference-transaction hook, and counts every
   * creation of that branch in `<common>/branch-made`.
   */
  function ghostOnFirstBranch(root: string): void {
    const hook = path.join(root, ".git", "hooks", "reference-transaction");
    writeFileSync(
      hook,
      `#!/bin/sh
[ "$1" = committed ] || exit 0
common=$(git rev-parse --git-common-dir)
# Every creation of the branch (old value all zeros) is counted.
grep -q "^0\\{40\\} [0-9a-f]\\{40\\} refs/heads/conductor/one$" && echo made >> "$common/branch-made"
[ -e "$common/ghost-made" ] && exit 0
: > "$common/ghost-made"
mkdir -p "$common/worktrees/ghost"
echo /nowhere/ghost/.git > "$common/worktrees/ghost/gitdir"
: > "$common/worktrees/ghost/commondir"
( sleep 0.3; rm -rf "$common/worktrees/ghost" ) >/dev/null 2>&1 &
`,
    );
    chmodSync(hook, 0o755);
  }

  /** Adds `conductor/one` at `ws/one` with {@link ghostOnFirstBranch} in place; returns its path. */
  async function addBesideGhost(root: string): Promise<string> {
    ghostOnFirstBranch(root);
    const worktree = await addFirstWorkspace(root);
    return worktree;
  }

  it("adds the worktree while another add's entry is half-written, reading no other entry", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    const worktree = await addBesideGhost(root);
    // Conductor writes the registration itself: the branch is made once, and nothing stops at
    // the other entry.
    const made = readFileSync(path.join(root, ".git", "branch-made"), "utf8").split("\n");
    expect(made.filter(Boolean)).toHaveLength(1);
    expect(await repo.git("-C", worktree, "symbolic-ref", "HEAD")).toBe("refs/heads/conductor/one");
    expect(await repo.git("rev-parse", "conductor/one")).toBe(await repo.git("rev-parse", "main"));
  });

  it("through git's own add (a repository with per-worktree config), waits the other add out, its own failed try's branch not in the way", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    // git's add copies the main checkout's config.worktree into a new worktree: left to git.
    await repo.git("config", "extensions.worktreeConfig", "true");
    await repo.git("config", "--worktree", "user.name", "per-worktree name");
    const worktree = await addBesideGhost(root);
    // git worktree add -b makes the branch first, then reads every worktree's entry, where the
    // half-written one stops it after the branch exists. Tries made the branch and failed (each
    // time the branch was deleted, or the next could not have made it again) until one got
    // through.
    const made = readFileSync(path.join(root, ".git", "branch-made"), "utf8").split("\n");
    expect(made.filter(Boolean).length).toBeGreaterThanOrEqual(2);
    expect(await repo.git("-C", worktree, "symbolic-ref", "HEAD")).toBe("refs/heads/conductor/one");
    expect(await repo.git("-C", worktree, "config", "user.name")).toBe("per-worktree name");
  });

  it("tells git's failure on the branch's own lock (another process writing it) from the others", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    const main = await repo.git("rev-parse", "main");
    // Another process holds the branch's lock: git fails at \`git branch\`, before making anything.
    const lock = path.join(root, ".git", "refs", "heads", "conductor", "one.lock");
    mkdirSync(path.dirname(lock), { recursive: true });
    writeFileSync(lock, `${main}\n`);
    const worktree = path.join(path.dirname(root), "ws", "one");
    const failure = await runGit(root, [
      "worktree",
      "add",
      "--no-track",
      "-b",
      "conductor/one",
      worktree,
      "main",
    ]).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/Another git process seems to be running/); // git's advice, after the ref
    expect(failedOnBranchLock("conductor/one", failure ?? "")).toBe(true);
    expect(failedOnBranchLock("conductor/on", failure ?? "")).toBe(false);
    // A half-written entry of another add names no ref: the branch is this try's own.
    expect(
      failedOnBranchLock(
        "conductor/one",
        "fatal: failed to read .git/worktrees/ghost/commondir: Success",
      ),
    ).toBe(false);
  });
});
