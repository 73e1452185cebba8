import { afterEach, describe, expect, it } from "vitest";
import { commitTree, moveBranch } from "../../src/git/land.js";
import { mergeTree } from "../../src/git/merge-tree.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("landing plumbing", () => {
  it("refuses to move a branch that moved since it was read, and leaves it where it is", async () => {
    repo = await createTestRepo();
    const read = (await repo.git("rev-parse", "main")).trim();
    await repo.git("switch", "-q", "-c", "topic");
    await repo.write({ "topic.txt": "topic\n" });
    await repo.commitAll("topic");
    await repo.git("switch", "-q", "main");
    const merged = await mergeTree(repo.root, "main", "topic");
    const commit = await commitTree(repo.root, merged.tree, [read, "topic"], "merge topic\n");
    // Someone else lands a commit on main between our read and our move.
    await repo.write({ "other.txt": "other\n" });
    await repo.commitAll("someone else");
    const moved = (await repo.git("rev-parse", "main")).trim();
    await expect(moveBranch(repo.root, "main", commit, read, "test")).rejects.toThrow();
    expect((await repo.git("rev-parse", "main")).trim()).toBe(moved);
    // With the right expected value it moves.
    const second = await commitTree(repo.root, merged.tree, [moved], "again\n");
    await moveBranch(repo.root, "main", second, moved, "test");
    expect((await repo.git("rev-parse", "main")).trim()).toBe(second);
  });
});
