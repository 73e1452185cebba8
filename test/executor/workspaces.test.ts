// `conductor run` with the command agent: worktrees, branches, copies, context and commits.
import { existsSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig, tasks } from "../helpers/run-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** Everything about the main checkout that a run must leave alone (its own .conductor/ aside). */
async function mainCheckout(r: TestRepo): Promise<string> {
  return [
    await r.git("status", "--porcelain", "--ignored", "--", ".", ":(exclude).conductor"),
    await r.git("rev-parse", "HEAD"),
    await r.git("symbolic-ref", "HEAD"),
    await r.git("stash", "list"),
    await r.git("ls-files", "--stage"),
  ].join("\n---\n");
}

describe("conductor run with the command agent", () => {
  it("gives every task a worktree and branch, copies .env.local into each, and commits only the agent's work", async () => {
    repo = await repoWithConfig(
      {
        workspaces: { copy: [".env.local"], context: ["docs/*.md"] },
        agent: {
          kind: "command",
          command:
            'test -f .env.local && test -f .context/docs/notes.md && echo "$CONDUCTOR_PROMPT" > "$CONDUCTOR_TASK_ID.txt"',
        },
        tasks: tasks("alpha", "beta", "gamma"),
      },
      { ".gitignore": ".env.local\n", "docs/notes.md": "notes for agents\n" },
    );
    await repo.write({ ".env.local": "API_URL=http://localhost\n" });
    const before = await mainCheckout(repo);

    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(result.exitCode, result.all).toBe(0);
    for (const id of ["alpha", "beta", "gamma"]) {
      const worktree = path.join(repo.home, "workspaces", id);
      expect(readFileSync(path.join(worktree, ".env.local"), "utf8")).toBe(
        "API_URL=http://localhost\n",
      );
      expect(existsSync(path.join(worktree, ".context", "docs", "notes.md"))).toBe(true);
      const committed = await repo.git("show", "--name-only", "--format=", `conductor/${id}`);
      expect(committed.split("\n")).toEqual([`${id}.txt`]);
      expect(await repo.git("show", `conductor/${id}:${id}.txt`)).toBe(`work on ${id}`);
      const message = await repo.git("log", "-1", "--format=%B", `conductor/${id}`);
      expect(message).toContain(`${id}: work on ${id}`);
      expect(message).toMatch(/Conductor-Run: \d{8}-\d{6}-[0-9a-f]{4}/);
    }
    expect(await mainCheckout(repo)).toBe(before);
    expect(await repo.git("check-ignore", ".conductor/runs")).toBe(".conductor/runs");
    expect(latestSummary(repo.root).workspaces.map((workspace) => workspace.diff)).toEqual([
      { files: 1, insertions: 1, deletions: 0 },
      { files: 1, insertions: 1, deletions: 0 },
      { files: 1, insertions: 1, deletions: 0 },
    ]);
  });

  it("fails a workspace whose folder git still has a worktree registered at as a conflict, saying how to clear it", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: 'echo "$CONDUCTOR_TASK_ID" > "$CONDUCTOR_TASK_ID.txt"' },
      tasks: tasks("alpha", "beta"),
    });
    // Someone's locked worktree at alpha's folder, its folder since removed by hand.
    const alpha = path.join(repo.home, "workspaces", "alpha");
    await repo.git("worktree", "add", "--quiet", "--lock", "-b", "theirs", alpha);
    await rm(alpha, { recursive: true });

    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(result.exitCode, result.all).toBe(1);
    const [failed, done] = latestSummary(repo.root).workspaces;
    expect(failed?.failure).toMatchObject({ reason: "conflict", step: "worktree" });
    const git = path.join(repo.root, ".git");
    expect(failed?.failure?.message).toContain(
      `\`git --git-dir=${git} worktree unlock ${alpha}\`, then \`git --git-dir=${git} worktree remove ${alpha}\` clears its record`,
    );
    expect(done?.status).toBe("succeeded");
    expect(await repo.git("branch", "--list", "conductor/alpha")).toBe("");
    expect(await repo.git("worktree", "list", "--porcelain")).toContain(`worktree ${alpha}\n`);
  });

  it("creates 40 workspaces at concurrency 8 without a git lock error", async () => {
    const ids = Array.from({ length: 40 }, (_, index) => `task-${index}`);
    repo = await repoWithConfig({
      concurrency: 8,
      agent: { kind: "command", command: 'echo "$CONDUCTOR_TASK_ID" > done.txt' },
      tasks: tasks(...ids),
    });

    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).not.toMatch(/\.lock|could not lock/);
    const branches = (
      await repo.git("branch", "--list", "conductor/*", "--format=%(refname:short)")
    ).split("\n");
    expect(branches.sort()).toEqual(ids.map((id) => `conductor/${id}`).sort());
    const worktrees =
      (await repo.git("worktree", "list", "--porcelain")).match(/^worktree /gm) ?? [];
    expect(worktrees).toHaveLength(41);
  });

  it("starts a dependent from its dependency's branch and merges a second dependency in", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: 'echo "$CONDUCTOR_TASK_ID" > "$CONDUCTOR_TASK_ID.txt"' },
      tasks: [
        { id: "base-a", prompt: "a" },
        { id: "base-b", prompt: "b" },
        { id: "on-top", prompt: "c", depends_on: ["base-a", "base-b"] },
      ],
    });

    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(result.exitCode, result.all).toBe(0);
    const files = (await repo.git("ls-tree", "--name-only", "conductor/on-top")).split("\n");
    expect(files).toEqual(expect.arrayContaining(["base-a.txt", "base-b.txt", "on-top.txt"]));
    expect(latestSummary(repo.root).workspaces.find((w) => w.name === "on-top")?.diff?.files).toBe(
      1,
    );
  });

  it("fails a dependent whose dependencies conflict, and resumes once the conflict is resolved", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: 'echo "$CONDUCTOR_TASK_ID" > shared.txt' },
      tasks: [
        { id: "left", prompt: "l" },
        { id: "right", prompt: "r" },
        { id: "both", prompt: "b", depends_on: ["left", "right"] },
      ],
    });
    const first = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(first.exitCode, first.all).toBe(1);
    const both = latestSummary(repo.root).workspaces.find((w) => w.name === "both");
    expect(both?.status).toBe("failed");
    expect(both?.failure).toMatchObject({ reason: "git-error", step: "worktree" });
    expect(both?.failure?.message).toContain("merging conductor/right into conductor/both failed");
    // Nothing half-merged was committed on the branch.
    expect(await repo.git("show", "conductor/both:shared.txt")).toBe("left");

    const worktree = path.join(repo.home, "workspaces", "both");
    const inWorktree = (...args: string[]) => execa("git", args, { cwd: worktree, reject: false });
    // The failed merge was undone, so there is nothing to resolve yet: the message says which
    // merge to start, as a command that works when pasted.
    expect((await inWorktree("status", "--porcelain")).stdout).toBe("");
    const printed = /merge it by hand \((git -C .+ merge conductor\/right)\)/.exec(
      both?.failure?.message ?? "",
    )?.[1];
    expect(printed, both?.failure?.message).toBeDefined();
    const merge = await execa("sh", ["-c", printed as string], { cwd: repo.root, reject: false });
    expect(merge.stdout).toMatch(/CONFLICT \(.*\): Merge conflict in shared\.txt/);
    await writeFile(path.join(worktree, "shared.txt"), "left and right\n");
    await inWorktree("commit", "-qam", "resolve");
    const resumed = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(await repo.git("show", "conductor/both:shared.txt")).toBe("both");
  });

  it("skips a dependent whose dependency failed and says why", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: 'test "$CONDUCTOR_TASK_ID" != broken' },
      tasks: [
        { id: "broken", prompt: "x" },
        { id: "after", prompt: "y", depends_on: ["broken"] },
        { id: "independent", prompt: "z" },
      ],
    });

    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(result.exitCode).toBe(1);
    const byName = Object.fromEntries(latestSummary(repo.root).workspaces.map((w) => [w.name, w]));
    expect(byName.broken?.status).toBe("failed");
    expect(byName.after?.status).toBe("skipped");
    expect(byName.after?.failure?.message).toContain("broken did not succeed");
    expect(byName.independent?.status).toBe("succeeded");
    expect(await repo.git("branch", "--list", "conductor/after")).toBe("");
  });

  it("refuses to start when a branch of the plan already exists, creating nothing", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "true" },
      tasks: tasks("one", "two"),
    });
    await repo.git("branch", "conductor/two");

    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("branch conductor/two: no run of this repository made it");
    expect(result.stderr).toContain("workspaces.branch / workspaces.dir in conductor.yaml");
    expect(await repo.git("branch", "--list", "conductor/one")).toBe("");
    expect(existsSync(path.join(repo.home, "workspaces", "one"))).toBe(false);
  });

  it.each([
    ["conductor", "conductor/a"],
    ["conductor/a/old", "conductor/a"],
  ])(
    "refuses to start when the existing branch %s keeps git from making %s, creating nothing",
    async (existing, planned) => {
      repo = await repoWithConfig({
        agent: { kind: "command", command: "true" },
        tasks: tasks("a"),
      });
      await repo.git("branch", existing);
      const branchesBefore = await repo.git("branch", "--list");

      const result = await conductor(["run", "--output", "plain"], {
        cwd: repo.root,
        home: repo.home,
      });

      expect(result.exitCode, result.all).toBe(2);
      expect(result.stderr).toContain(
        `branch ${planned} of workspace a: the branch ${existing} exists`,
      );
      expect(result.stderr).toContain(`git branch -m ${existing} <new-name>`);
      expect(result.stderr).toContain("workspaces.branch in conductor.yaml");
      expect(result.stderr).not.toContain("cannot lock ref");
      expect(await repo.git("branch", "--list")).toBe(branchesBefore);
      expect(
        (await repo.git("worktree", "list", "--porcelain")).match(/^worktree /gm),
      ).toHaveLength(1);
      expect(existsSync(path.join(repo.root, ".conductor"))).toBe(false);
      expect(existsSync(path.join(repo.home, "workspaces", "a"))).toBe(false);
    },
  );

  it("takes over an earlier run's worktree folder whose branch the new branch names would nest with", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "echo x > x.txt" },
      tasks: tasks("a"),
    });
    const first = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(first.exitCode, first.all).toBe(0);
    // The same folder, a branch below the earlier one: retiring the earlier run frees both.
    const config = (await repo.git("show", "HEAD:conductor.yaml")).replace(
      "workspaces:\n",
      'workspaces:\n  branch: "conductor/{{task}}/v2"\n',
    );
    await repo.write({ "conductor.yaml": `${config}\n` });
    await repo.commitAll("nest the branches");

    const second = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(second.exitCode, second.all).toBe(0);
    expect(second.stderr).toContain("kept the earlier run");
    expect(await repo.git("branch", "--list", "conductor/*", "--format=%(refname:short)")).toBe(
      "conductor/a/v2",
    );
  });

  it("commits under a neutral identity when git has none configured", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "echo x > x.txt" },
      tasks: tasks("anon"),
    });
    await repo.git("config", "--unset", "user.name");
    await repo.git("config", "--unset", "user.email");
    // Not the test helper's environment: it names a git author.
    const result = await execa("node", [CLI, "run", "--output", "plain"], {
      cwd: repo.root,
      reject: false,
      extendEnv: false,
      env: { PATH: process.env.PATH ?? "", HOME: repo.home, GIT_CONFIG_NOSYSTEM: "1", CI: "1" },
    });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(await repo.git("log", "-1", "--format=%an <%ae>", "conductor/anon")).toBe(
      "conductor <conductor@localhost>",
    );
  });

  it("with --dry-run shows the plan and creates nothing", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "true" },
      tasks: tasks("one"),
    });

    const result = await conductor(["run", "--dry-run"], { cwd: repo.root, home: repo.home });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("conductor/one");
    expect(result.stdout).toContain("dry run");
    expect(existsSync(path.join(repo.root, ".conductor"))).toBe(false);
    expect(await repo.git("branch", "--list", "conductor/*")).toBe("");
  });
});
