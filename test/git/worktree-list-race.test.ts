import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { addWorktree, listWorktrees } from "../../src/git/worktree.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

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

  it("adds the worktree once the other add is through, the branch its own failed try made not in the way", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    // git worktree add -b makes the branch first, then reads every worktree's entry, where
    // another add's half-written one stops it after the branch exists. A reference-transaction
    // hook puts such an entry there the moment the first branch is made, for 300 ms.
    const hook = path.join(root, ".git", "hooks", "reference-transaction");
    writeFileSync(
      hook,
      `#!/bin/sh
[ "$1" = committed ] || exit 0
common=$(git rev-parse --git-common-dir)
[ -e "$common/ghost-made" ] && exit 0
: > "$common/ghost-made"
mkdir -p "$common/worktrees/ghost"
echo /nowhere/ghost/.git > "$common/worktrees/ghost/gitdir"
: > "$common/worktrees/ghost/commondir"
( sleep 0.3; rm -rf "$common/worktrees/ghost" ) >/dev/null 2>&1 &
`,
    );
    chmodSync(hook, 0o755);
    const worktree = path.join(path.dirname(root), "ws", "one");
    await addWorktree(root, { branch: "conductor/one", path: worktree, startPoint: "main" });
    expect(existsSync(path.join(root, ".git", "ghost-made"))).toBe(true); // the race did happen
    expect(await repo.git("-C", worktree, "symbolic-ref", "HEAD")).toBe("refs/heads/conductor/one");
    expect(await repo.git("rev-parse", "conductor/one")).toBe(await repo.git("rev-parse", "main"));
  });

  it("leaves alone a branch of the same name that another process was writing when the add failed", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    const main = await repo.git("rev-parse", "main");
    // Another process holds the branch's lock (git fails "cannot lock ref"), then makes it.
    const lock = path.join(root, ".git", "refs", "heads", "conductor", "one.lock");
    mkdirSync(path.dirname(lock), { recursive: true });
    writeFileSync(lock, `${main}\n`);
    const made = setTimeout(() => {
      writeFileSync(path.join(path.dirname(lock), "one"), `${main}\n`);
      rmSync(lock);
    }, 150);
    try {
      const worktree = path.join(path.dirname(root), "ws", "one");
      await expect(
        addWorktree(root, { branch: "conductor/one", path: worktree, startPoint: "main" }),
      ).rejects.toThrow(/already exists/);
      expect(await repo.git("rev-parse", "conductor/one")).toBe(main);
    } finally {
      clearTimeout(made);
    }
  });
});
