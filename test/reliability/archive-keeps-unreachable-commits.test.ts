// `conductor archive` removes a worktree only when nothing in it is lost: besides uncommitted
// files and unmerged branches, commits that no ref holds (a detached HEAD's, a nested repository's)
// and edits to a tracked .context/ folder, which conductor never commits.
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { repoWithConfig } from "../helpers/run-repo.js";
import { gitIn, hasStackTrace, treeSnapshot } from "./rig.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

async function ranRepo(
  command: string,
  files: Record<string, string> = {},
): Promise<{ test: TestRepo; worktree: string }> {
  const test = await repoWithConfig(
    {
      agent: { kind: "command", command },
      tasks: [{ id: "work", prompt: "work" }],
    },
    files,
  );
  repo = test;
  const result = await conductor(["run", "--output", "plain"], { cwd: test.root, home: test.home });
  expect(result.exitCode, result.all).toBe(0);
  return { test, worktree: path.join(test.home, "workspaces", "work") };
}

/** Archive without --force refuses, names `what`, and leaves the worktree as it was. */
async function expectRefused(test: TestRepo, worktree: string, what: RegExp): Promise<void> {
  const before = treeSnapshot(worktree);
  const archived = await conductor(["archive", "work"], { cwd: test.root, home: test.home });
  expect(hasStackTrace(archived.all), archived.all).toBe(false);
  expect(archived.exitCode, archived.all).toBe(1);
  expect(archived.stderr).toContain("would lose work");
  expect(archived.stderr).toMatch(what);
  expect(treeSnapshot(worktree)).toEqual(before);
  const forced = await conductor(["archive", "work", "--force"], {
    cwd: test.root,
    home: test.home,
  });
  expect(forced.exitCode, forced.all).toBe(0);
  expect(existsSync(worktree)).toBe(false);
}

describe("archive never drops a commit that no ref holds", () => {
  it("refuses to remove a worktree whose detached HEAD has commits no branch holds", async () => {
    const { test, worktree } = await ranRepo("echo a > a.txt");
    await gitIn(test, worktree, "checkout", "-q", "--detach");
    writeFileSync(path.join(worktree, "d.txt"), "detached work\n");
    await gitIn(test, worktree, "add", "d.txt");
    await gitIn(test, worktree, "commit", "-qm", "work on a detached HEAD");
    const head = (await gitIn(test, worktree, "rev-parse", "HEAD")).trim();
    await expectRefused(test, worktree, new RegExp(`detached HEAD.*${head.slice(0, 10)}`));
  });

  it("refuses to remove a worktree holding a nested repository whose commits exist only there", async () => {
    const { test, worktree } = await ranRepo("echo a > a.txt");
    const nested = path.join(worktree, "nested");
    await gitIn(test, worktree, "init", "-q", "nested");
    writeFileSync(path.join(nested, "inner.txt"), "inner\n");
    await gitIn(test, nested, "add", "inner.txt");
    await gitIn(test, nested, "commit", "-qm", "inner work");
    // The outer branch records the nested commit as a gitlink: the commit itself lives only in
    // nested/.git, which the worktree's removal would delete.
    await gitIn(test, worktree, "add", "nested");
    await gitIn(test, worktree, "commit", "-qm", "add nested");
    await expectRefused(test, worktree, /nested repository nested/);
  });

  it("refuses to remove edits to a tracked .context/ folder, which conductor never commits", async () => {
    const { test, worktree } = await ranRepo("echo more >> .context/guide.md && echo a > a.txt", {
      ".context/guide.md": "guide\n",
    });
    // The edit was left out of the commit: the branch never carries .context/.
    expect(await test.git("show", "conductor/work:.context/guide.md")).toBe("guide");
    await expectRefused(test, worktree, /\.context\/guide\.md/);
  });
});
