import { afterEach, describe, expect, it } from "vitest";
import { trackedChanges } from "../../src/git/land.js";
import { parseStatus } from "../../src/git/status-entries.js";
import { uncommittedPaths } from "../../src/git/worktree.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("git status parsing", () => {
  it("reads a staged rename as one path, its new name, in every caller", async () => {
    repo = await createTestRepo({ "old name.txt": "content\n", "kept.txt": "kept\n" });
    await repo.git("mv", "old name.txt", "new name.txt");
    await repo.write({ "kept.txt": "edited\n" });

    expect((await uncommittedPaths(repo.root)).sort()).toEqual(["kept.txt", "new name.txt"]);
    expect((await trackedChanges(repo.root)).sort()).toEqual(["kept.txt", "new name.txt"]);
  });

  it("keeps the source of a rename and the --branch header apart from the entries", () => {
    const parsed = parseStatus("## main\0R  b.txt\0a.txt\0 M c.txt\0?? d.txt\0");
    expect(parsed.branch).toBe("main");
    expect(parsed.entries).toEqual([
      { code: "R ", path: "b.txt", from: "a.txt" },
      { code: " M", path: "c.txt" },
      { code: "??", path: "d.txt" },
    ]);
  });
});
