import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { initialRunState } from "../../src/executor/state-fold.js";
import { diffBase } from "../../src/review/diff.js";
import { FACTS, makePlan } from "../report/fixtures.js";
import { type ReviewRepo, reviewRepo, runAll } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("conductor diff", () => {
  it("shows the workspace's changes since its start point, and only a summary with --stat", async () => {
    repo = await reviewRepo([
      { id: "edit", agent: "printf 'one\\ntwo\\n' > notes.txt; echo '# changed' >> README.md" },
    ]);
    await runAll(repo);
    // Later work on main is not part of the workspace's changes.
    await repo.write({ "later.txt": "on main\n" });
    await repo.commitAll("later work on main");

    const stat = await repo.cli(["diff", "edit", "--stat"]);
    expect(stat.exitCode, stat.all).toBe(0);
    expect(stat.stdout).toMatch(/README\.md \| 1 \+/);
    expect(stat.stdout).toMatch(/notes\.txt \| 2 \+\+/);
    expect(stat.stdout).toContain("2 files changed, 3 insertions(+)");
    expect(stat.stdout).not.toContain("later.txt");

    const full = await repo.cli(["diff", "edit"]);
    expect(full.exitCode, full.all).toBe(0);
    expect(full.stdout).toContain("diff --git a/notes.txt b/notes.txt");
    expect(full.stdout).toContain("+one\n+two");
    expect(full.stdout).toContain("+# changed");
    // Not a terminal: no pager, no colours.
    expect(full.stdout).not.toContain("\u001b[");
  });

  it("fails clearly when the workspace's branch was deleted", async () => {
    repo = await reviewRepo([{ id: "gone" }]);
    await runAll(repo);
    const archived = await repo.cli(["archive", "gone", "--delete-branch", "--force"]);
    expect(archived.exitCode, archived.all).toBe(0);
    const result = await repo.cli(["diff", "gone"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("the branch conductor/gone of gone does not exist");
    expect(result.stderr).toContain("deleted when the workspace was archived");
  });

  it("says how to put back a branch deleted by hand, and the command works as printed", async () => {
    repo = await reviewRepo([{ id: "lost" }]);
    await runAll(repo);
    await repo.git("worktree", "remove", "--force", repo.worktree("lost"));
    await repo.git("branch", "-D", "conductor/lost");
    const refused = await repo.cli(["diff", "lost"]);
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr).toContain("the branch conductor/lost of lost does not exist");
    const restore = /`(git -C .* branch conductor\/lost [0-9a-f]{40})`/.exec(refused.stderr)?.[1];
    expect(restore, refused.stderr).toBeDefined();
    await execa("sh", ["-c", restore as string], { cwd: repo.home });
    const shown = await repo.cli(["diff", "lost"]);
    expect(shown.exitCode, shown.all).toBe(0);
    expect(shown.stdout).toContain("diff --git a/lost.txt b/lost.txt");
  });
});

describe("the start point of a workspace's diff", () => {
  const plan = makePlan();
  const run = initialRunState({ runId: "r", plan, createdAt: "2026-01-01T10:00:00.000Z", pid: 1 });
  const found = (name: string, startCommit?: string) => {
    const workspace = plan.workspaces.find((candidate) => candidate.name === name);
    const state = run.workspaces[name];
    if (!workspace || !state) throw new Error(`no workspace ${name} in the fixture plan`);
    return { run, workspace, state: { ...state, ...(startCommit ? { startCommit } : {}) } };
  };

  it("is the commit the branch started at, when the run recorded it", () => {
    expect(diffBase(found("add-auth", "f".repeat(40)))).toBe("f".repeat(40));
  });

  it("falls back to the plan's start point: the base commit, or the branch it builds on", () => {
    expect(diffBase(found("add-auth"))).toBe(FACTS.baseCommit);
    expect(diffBase(found("auth-docs"))).toBe("conductor/add-auth");
  });
});
