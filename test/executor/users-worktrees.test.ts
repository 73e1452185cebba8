import { renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig, tasks } from "../helpers/run-repo.js";

let repo: TestRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("the user's own worktrees", () => {
  it("keep git's record when a resumed run brings back a workspace whose folder was removed", async () => {
    repo = await repoWithConfig({
      agent: {
        kind: "command",
        // Fails until the test says it may work.
        command: 'test -f "$HOME/may-work" || exit 3; printf done > done.txt',
      },
      tasks: tasks("one"),
    });
    const run = (args: string[]) =>
      conductor(["run", ...args, "--output", "plain"], {
        cwd: (repo as TestRepo).root,
        home: (repo as TestRepo).home,
      });
    // A worktree of the user's, moved by hand (or on a disk not mounted now): git still has its
    // record, which holds its HEAD and lets `git worktree repair` find it again.
    const mine = path.join(repo.home, "mine");
    await repo.git("worktree", "add", "--quiet", "-b", "mine", mine);
    renameSync(mine, `${mine}-moved`);
    const first = await run([]);
    expect(first.exitCode, first.all).toBe(1);
    // The failed workspace's folder is removed; the resume brings it back from its branch.
    rmSync(path.join(repo.home, "workspaces", "one"), { recursive: true, force: true });
    writeFileSync(path.join(repo.home, "may-work"), "");
    const resumed = await run(["--resume"]);
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(latestSummary(repo.root).workspaces.map((w) => w.status)).toEqual(["succeeded"]);
    const listed = await repo.git("worktree", "list", "--porcelain");
    expect(listed).toContain(`worktree ${mine}\n`);
    await repo.git("worktree", "repair", `${mine}-moved`);
    expect(await repo.git("-C", `${mine}-moved`, "rev-parse", "--abbrev-ref", "HEAD")).toBe("mine");
  });
});
