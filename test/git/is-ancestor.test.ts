import { afterEach, describe, expect, it } from "vitest";
import { isAncestor } from "../../src/git/integrity.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("isAncestor", () => {
  it("answers yes and no from git's exit 0 and 1", async () => {
    repo = await createTestRepo();
    const first = (await repo.git("rev-parse", "HEAD")).trim();
    await repo.write({ "next.txt": "next\n" });
    await repo.commitAll("next");
    const second = (await repo.git("rev-parse", "HEAD")).trim();
    expect(await isAncestor(repo.root, first, second)).toBe(true);
    expect(await isAncestor(repo.root, second, first)).toBe(false);
  });

  it("throws for an unknown commit instead of answering no", async () => {
    repo = await createTestRepo();
    await expect(isAncestor(repo.root, "0".repeat(40), "HEAD")).rejects.toThrow();
  });
});
