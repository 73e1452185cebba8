import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listWorktrees } from "../../src/git/worktree.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

describe("listing worktrees while another process adds one", () => {
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
});
