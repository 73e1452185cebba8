// Git runs without simple-git's 50 ms wait, under the same rule: any non-zero exit is an error.
import { afterEach, describe, expect, it } from "vitest";
import { GitCommandError, runGit, runGitHead } from "../../src/git/run-git.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("runGit", () => {
  it("fails on a non-zero exit even when git printed nothing", async () => {
    repo = await createTestRepo();
    const failure = runGit(repo.root, ["rev-parse", "--verify", "--quiet", "refs/heads/nope"]);
    await expect(failure).rejects.toBeInstanceOf(GitCommandError);
    await expect(failure).rejects.toThrow("git exited with code 1");
  });

  it("returns what git printed on stdout", async () => {
    repo = await createTestRepo();
    expect(await runGit(repo.root, ["rev-parse", "--abbrev-ref", "HEAD"])).toBe("main\n");
  });

  it("works on the folder it is given even when GIT_DIR points elsewhere", async () => {
    repo = await createTestRepo();
    const other = await createTestRepo();
    const saved = process.env.GIT_DIR;
    try {
      process.env.GIT_DIR = `${other.root}/.git`;
      const gitDir = await runGit(repo.root, ["rev-parse", "--absolute-git-dir"]);
      expect(gitDir.trim()).toBe(`${repo.root}/.git`);
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
      await other.remove();
    }
  });

  it("runGitHead: the first bytes of a long output, and whether there was more", async () => {
    repo = await createTestRepo();
    expect(await runGitHead(repo.root, ["rev-parse", "--abbrev-ref", "HEAD"], 100)).toEqual({
      stdout: "main\n",
      truncated: false,
    });
    expect(await runGitHead(repo.root, ["rev-parse", "--abbrev-ref", "HEAD"], 2)).toEqual({
      stdout: "ma",
      truncated: true,
    });
    await expect(
      runGitHead(repo.root, ["rev-parse", "--verify", "refs/heads/nope"], 2),
    ).rejects.toThrow(GitCommandError);
  });
});
