import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runAsPrinted } from "../lifecycle/hints.js";
import { type ReviewRepo, reviewRepo, runAll } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("conductor open", () => {
  it('prints only the worktree path, so that cd "$(conductor open x)" works', async () => {
    repo = await reviewRepo([{ id: "here" }]);
    await runAll(repo);
    const result = await repo.cli(["open", "here"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toBe(repo.worktree("here"));
    expect(result.stderr).toBe("");
  });

  it("fails clearly for an archived workspace and for a worktree removed by hand", async () => {
    repo = await reviewRepo([{ id: "archived" }, { id: "removed" }]);
    await runAll(repo);
    expect((await repo.cli(["archive", "archived"])).exitCode).toBe(0);
    const archived = await repo.cli(["open", "archived"]);
    expect(archived.exitCode).toBe(2);
    expect(archived.stdout).toBe("");
    expect(archived.stderr).toContain("workspace archived was archived");
    expect(archived.stderr).toContain("Its branch conductor/archived is kept");

    await rm(repo.worktree("removed"), { recursive: true, force: true });
    const removed = await repo.cli(["open", "removed"]);
    expect(removed.exitCode).toBe(2);
    expect(removed.stdout).toBe("");
    expect(removed.stderr).toContain(
      `the worktree of removed is gone: ${repo.worktree("removed")}`,
    );
  });

  it("names the command that checks an archived workspace's kept branch out again, quoted", async () => {
    // A folder with a space and a branch with a quote and a dollar: the hint works as pasted.
    repo = await reviewRepo([{ id: "kept" }], {
      workspaces: { dir: "../work spaces", branch: "wip/o'neil$x/{{task}}" },
    });
    await runAll(repo);
    expect((await repo.cli(["archive", "kept"])).exitCode).toBe(0);
    const archived = await repo.cli(["open", "kept"]);
    expect(archived.exitCode).toBe(2);
    const hint = /`(git worktree add [^`]+)`/.exec(archived.stderr)?.[1];
    expect(hint, archived.stderr).toBeDefined();
    const again = await runAsPrinted(hint as string, { cwd: repo.root, home: repo.home });
    expect(again.exitCode, again.all).toBe(0);
    const folder = path.join(path.dirname(repo.root), "work spaces", "kept");
    expect(existsSync(path.join(folder, "kept.txt"))).toBe(true);
  });
});
