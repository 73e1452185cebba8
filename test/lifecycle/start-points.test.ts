// Where a task starts: the base, a branch, a tag or a commit (`from:`), an existing branch it
// continues on (`branch:`), a pull request (`pr:`, fetched from a local bare `origin` holding real
// refs/pull/* refs). Real repositories, the real CLI, the command agent.
import { existsSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { shellQuote } from "../../src/hint/shell-quote.js";
import type { Plan } from "../../src/planner/types.js";
import { conductor } from "../helpers/cli.js";
import { createTestRepo, gitEnv, type TestRepo } from "../helpers/git-repo.js";
import { runAsPrinted } from "./hints.js";

let repo: TestRepo;
let origin: string;
/** Commits by name: `one` (tagged v1), `two` (main), `feature`, `pr` (only in refs/pull/7/head). */
const commits: Record<string, string> = {};

const run = (args: string[]) => conductor(args, { cwd: repo.root, home: repo.home });
const head = async (ref: string) => (await repo.git("rev-parse", ref)).trim();

async function commit(file: string): Promise<string> {
  await repo.write({ [file]: `${file}\n` });
  await repo.commitAll(`add ${file}`);
  return head("HEAD");
}

async function writeConfig(tasks: Record<string, unknown>[]): Promise<void> {
  const config = {
    version: 1,
    workspaces: { dir: path.join(repo.home, "workspaces") },
    agent: {
      kind: "command",
      command: 'echo "$CONDUCTOR_TASK_ID" > "work-$CONDUCTOR_TASK_ID.txt"',
    },
    tasks,
  };
  await repo.write({ "conductor.yaml": stringify(config) });
  // Kept out of git so that the main checkout stays as the tests made it.
  await repo.write({ ".git/info/exclude": "conductor.yaml\n" });
}

beforeEach(async () => {
  repo = await createTestRepo();
  origin = path.join(path.dirname(repo.root), "origin.git");
  await execa("git", ["init", "-q", "--bare", origin], { env: gitEnv(repo.home) });
  commits.one = await head("HEAD");
  await repo.git("tag", "v1");
  commits.two = await commit("two.txt");
  await repo.git("remote", "add", "origin", origin);
  await repo.git("push", "-q", "origin", "main");
  await repo.git("switch", "-q", "-c", "feature");
  commits.feature = await commit("feature.txt");
  await repo.git("push", "-q", "-u", "origin", "feature");
  // A pull request from a fork: its head exists on origin only as refs/pull/7/head.
  await repo.git("switch", "-q", "--detach", "main");
  commits.pr = await commit("from-a-fork.txt");
  await repo.git("push", "-q", "origin", `${commits.pr}:refs/pull/7/head`);
  await repo.git("switch", "-q", "main");
  await repo.git("gc", "-q", "--prune=now"); // the fork's commit is now only on origin
});

afterEach(async () => {
  await repo.remove();
});

describe("where a task starts", () => {
  it("a task starts from each of: base, a branch, a tag, a commit, a pull request, and continues an existing branch", async () => {
    await writeConfig([
      { id: "plain", prompt: "p" },
      { id: "from-branch", prompt: "p", from: "feature" },
      { id: "from-tag", prompt: "p", from: "v1" },
      { id: "from-commit", prompt: "p", from: commits.one?.slice(0, 12) },
      { id: "on-pr", prompt: "p", pr: 7 },
      { id: "on-feature", prompt: "p", branch: "feature" },
    ]);
    const result = await run(["run", "--output", "plain"]);
    expect(result.exitCode, result.all).toBe(0);
    const parentOf = async (branch: string) => head(`${branch}^`);
    expect(await parentOf("conductor/plain")).toBe(commits.two);
    expect(await parentOf("conductor/from-branch")).toBe(commits.feature);
    expect(await parentOf("conductor/from-tag")).toBe(commits.one);
    expect(await parentOf("conductor/from-commit")).toBe(commits.one);
    expect(await parentOf("conductor/on-pr")).toBe(commits.pr);
    // branch: made no new branch: the work is on feature itself.
    expect(await parentOf("feature")).toBe(commits.feature);
    expect(await repo.git("show", "--name-only", "--format=", "feature")).toBe(
      "work-on-feature.txt",
    );
    expect(await repo.git("branch", "--list", "conductor/on-feature")).toBe("");
    expect(await head("refs/conductor/pull/7/head")).toBe(commits.pr);
    // Nothing else moved: main, the tag, and the main checkout.
    expect(await head("main")).toBe(commits.two);
    expect(await head("v1")).toBe(commits.one);
    expect(await repo.git("status", "--porcelain")).toBe("");
  });

  it("plan pins the commit each start resolves to, and its hash changes when a from: branch moves", async () => {
    await writeConfig([
      { id: "from-branch", prompt: "p", from: "feature" },
      { id: "on-pr", prompt: "p", pr: 7 },
    ]);
    const planOf = async () => JSON.parse((await run(["plan", "--json"])).stdout) as Plan;
    const before = await planOf();
    expect(before.workspaces.map((workspace) => workspace.startPoint)).toEqual([
      { kind: "ref", ref: "feature", commit: commits.feature },
      { kind: "pull-request", number: 7, ref: "refs/conductor/pull/7/head", commit: commits.pr },
    ]);
    expect(before.workspaces[1]?.pullRequest).toBe(7);
    expect((await planOf()).hash).toBe(before.hash);
    await repo.git("switch", "-q", "feature");
    const moved = await commit("more.txt");
    await repo.git("switch", "-q", "main");
    expect((await planOf()).hash).not.toBe(before.hash);

    const table = (await run(["plan"])).stdout;
    expect(table).toContain(`feature (${moved.slice(0, 10)})`);
    expect(table).toContain(`PR #7 (${commits.pr?.slice(0, 10)})`);
  });

  it("run --resume after a from: ref moved says which ref moved, not that the file changed", async () => {
    await writeConfig([
      { id: "from-branch", prompt: "p", from: "feature", attempts: 2 },
      { id: "breaks", prompt: "p", agent: { command: "exit 1" } },
    ]);
    const first = await run(["run", "--output", "plain"]);
    expect(first.exitCode, first.all).toBe(1);
    const runId = /run (\d{8}-\d{6}-\w+)/.exec(first.stdout)?.[1] as string;
    await repo.git("switch", "-q", "feature");
    const moved = await commit("more.txt");
    await repo.git("switch", "-q", "main");

    const refused = await run(["run", "--resume", runId]);
    expect(refused.exitCode, refused.all).toBe(2);
    const line = `from: feature of task from-branch moved (${commits.feature?.slice(0, 10)} → ${moved.slice(0, 10)})`;
    expect(refused.stderr).toContain(line);
    // One line for the task, not one per attempt; and no blame on a file that did not change.
    expect(refused.stderr.split(line).length).toBe(2);
    expect(refused.stderr).not.toContain("conductor.yaml, a prompt file");

    // Putting the ref back, as the message says, lets the resume go on.
    await repo.git("branch", "-f", "feature", commits.feature as string);
    const resumed = await run(["run", "--resume", runId, "--output", "plain"]);
    expect(resumed.stderr).not.toContain("plan changed");
    expect(resumed.exitCode).toBe(1);
  });

  it("branch: records the branch's upstream, for conductor pr to push to", async () => {
    await writeConfig([{ id: "on-feature", prompt: "p", branch: "feature" }]);
    const plan = JSON.parse((await run(["plan", "--json"])).stdout) as Plan;
    expect(plan.workspaces[0]?.branch).toBe("feature");
    expect(plan.workspaces[0]?.startPoint).toEqual({
      kind: "branch",
      branch: "feature",
      commit: commits.feature,
      upstream: { remote: "origin", branch: "feature" },
    });
  });

  it("a run that committed on its branch: can still be resumed: that branch moving does not change the plan", async () => {
    await writeConfig([
      { id: "on-feature", prompt: "p", branch: "feature" },
      {
        id: "flaky",
        prompt: "p",
        agent: { command: 'test -f "$CONDUCTOR_ROOT_PATH/.git/ok" && echo ok > ok.txt' },
      },
    ]);
    const first = await run(["run", "--output", "plain"]);
    expect(first.exitCode, first.all).toBe(1);
    expect(await head("feature^")).toBe(commits.feature);
    await repo.write({ ".git/ok": "" });
    const resumed = await run(["run", "--resume", "--output", "plain"]);
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(await head("feature^")).toBe(commits.feature);
  });

  it("refuses a branch: that the main checkout has checked out, before anything is created", async () => {
    await writeConfig([{ id: "on-main", prompt: "p", branch: "main" }]);
    const result = await run(["run"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      `tasks[0].branch: branch "main" is checked out in the main checkout; switch it to another branch first (git -C ${repo.root} switch --detach leaves it on the same commit)`,
    );
    expect(existsSync(path.join(repo.root, ".conductor", "runs"))).toBe(false);
    expect(existsSync(path.join(repo.home, "workspaces"))).toBe(false);
  });

  it("a second run takes over the first run's workspace on a branch: and leaves the branch and its commits where they are", async () => {
    await writeConfig([{ id: "on-feature", prompt: "p", branch: "feature" }]);
    expect((await run(["run", "--output", "plain"])).exitCode).toBe(0);
    const worked = await head("feature");
    expect(worked).not.toBe(commits.feature);
    const again = await run(["run", "--output", "plain"]);
    expect(again.exitCode, again.all).toBe(0);
    expect(await head("feature")).toBe(worked);
    expect(await repo.git("for-each-ref", "refs/conductor/runs/")).toBe("");
  });

  it("merge and archive --delete-branch keep a branch: task's branch, which is the user's, and say so", async () => {
    await writeConfig([{ id: "on-feature", prompt: "p", branch: "feature" }]);
    expect((await run(["run", "--output", "plain"])).exitCode).toBe(0);
    const worked = await head("feature");
    const merged = await run(["merge", "on-feature", "--local"]);
    expect(merged.exitCode, merged.all).toBe(0);
    expect(merged.stdout).toContain(
      "kept branch feature (it is yours: the task continued it with branch:)",
    );
    expect(await head("feature")).toBe(worked);
    expect((await run(["run", "--output", "plain"])).exitCode).toBe(0);
    const again = await head("feature");
    const archived = await run(["archive", "on-feature", "--delete-branch", "--force"]);
    expect(archived.exitCode, archived.all).toBe(0);
    expect(archived.stdout).toContain(
      "kept branch feature (it is yours: the task continued it with branch:)",
    );
    expect(await head("feature")).toBe(again);
  });

  it("refuses a branch: checked out in a worktree that is not the workspace's, with a command that frees it", async () => {
    const elsewhere = path.join(repo.home, "by-hand");
    await repo.git("worktree", "add", "-q", elsewhere, "feature");
    await writeConfig([{ id: "on-feature", prompt: "p", branch: "feature" }]);
    const result = await run(["run"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      `tasks[0].branch: branch "feature" is checked out in the worktree ${elsewhere}; remove it (git worktree remove ${elsewhere})`,
    );
    expect(existsSync(path.join(repo.root, ".conductor", "runs"))).toBe(false);
    await repo.git("worktree", "remove", elsewhere);
    expect((await run(["run", "--output", "plain"])).exitCode).toBe(0);
  });

  it("a branch: held by another task's workspace gets an archive hint with its run, which works as printed", async () => {
    await writeConfig([{ id: "on-feature", prompt: "p", branch: "feature" }]);
    expect((await run(["run", "--output", "plain"])).exitCode).toBe(0);
    await writeConfig([{ id: "also-feature", prompt: "p", branch: "feature" }]);
    const refused = await run(["run"]);
    expect(refused.exitCode, refused.all).toBe(2);
    const hint = /archive it \(conductor (archive on-feature --run \S+)\)/.exec(refused.stderr);
    expect(hint, refused.stderr).not.toBeNull();
    const archived = await run((hint?.[1] ?? "").split(" "));
    expect(archived.exitCode, archived.all).toBe(0);
    expect((await run(["run", "--output", "plain"])).exitCode).toBe(0);
  });

  it("reports every start that cannot be used, located in the file, with exit 2 and nothing created", async () => {
    await writeConfig([
      { id: "no-such-ref", prompt: "p", from: "release-9" },
      { id: "no-such-branch", prompt: "p", branch: "topic" },
      { id: "no-such-pr", prompt: "p", pr: 404 },
    ]);
    const result = await run(["run"]);
    expect(result.exitCode).toBe(2);
    const lines = result.stderr.split("\n");
    expect(lines[0]).toBe("conductor: conductor.yaml has 3 problems:");
    expect(lines[1]).toMatch(
      /^ {2}conductor\.yaml:\d+:\d+: tasks\[0\]\.from: "release-9" is not a branch, tag or commit of this repository; fetch it first \(git fetch origin release-9:release-9\)$/,
    );
    expect(lines[2]).toContain(
      'tasks[1].branch: there is no local branch "topic"; create it (git branch topic <start>) or use from: to start a new branch',
    );
    expect(lines[3]).toContain("tasks[2].pr: pull request #404 could not be fetched from origin (");
    expect(existsSync(path.join(repo.root, ".conductor", "runs"))).toBe(false);
  });

  it("a from: ref that is only on origin gets a hint that works as printed", async () => {
    // A branch and a tag someone pushed from elsewhere: origin has them, this clone does not.
    const other = path.join(path.dirname(repo.root), "other");
    await execa("git", ["clone", "-q", origin, other], { env: gitEnv(repo.home) });
    await execa("git", ["-C", other, "branch", "release-9", "origin/main"], {
      env: gitEnv(repo.home),
    });
    await execa("git", ["-C", other, "tag", "v9", "origin/main"], { env: gitEnv(repo.home) });
    await execa("git", ["-C", other, "push", "-q", "origin", "release-9", "v9"], {
      env: gitEnv(repo.home),
    });
    for (const ref of ["v9", "release-9"]) {
      // The tag first: fetching the branch would bring the tag along (git follows tags).
      await writeConfig([{ id: "later", prompt: "p", from: ref }]);
      const refused = await run(["plan"]);
      expect(refused.exitCode, refused.all).toBe(2);
      const hint = /fetch it first \((git fetch [^)]+)\)/.exec(refused.stderr);
      expect(hint, refused.stderr).not.toBeNull();
      const [command, ...args] = (hint?.[1] ?? "").split(" ");
      await execa(command as string, args, { cwd: repo.root, env: gitEnv(repo.home) });
      const planned = await run(["plan"]);
      expect(planned.exitCode, planned.all).toBe(0);
    }
    // Fetched before as origin/<name> only: from: <name> still does not read it; say what does.
    await execa("git", ["-C", other, "branch", "release-10", "origin/main"], {
      env: gitEnv(repo.home),
    });
    await execa("git", ["-C", other, "push", "-q", "origin", "release-10"], {
      env: gitEnv(repo.home),
    });
    await repo.git("fetch", "-q", "origin");
    await writeConfig([{ id: "later", prompt: "p", from: "release-10" }]);
    const tracked = await run(["plan"]);
    expect(tracked.exitCode).toBe(2);
    expect(tracked.stderr).toContain(
      '"release-10" is not a branch, tag or commit of this repository, only origin/release-10 is; write from: origin/release-10, or make it local first (git branch --no-track release-10 origin/release-10)',
    );
    await writeConfig([{ id: "later", prompt: "p", from: "origin/release-10" }]);
    expect((await run(["plan"])).exitCode).toBe(0);
    // Nothing was created by the refusals.
    expect(existsSync(path.join(repo.root, ".conductor", "runs"))).toBe(false);
  });

  it("with -C, pasted from /: the git commands of a start's hints name the repository", async () => {
    const other = path.join(path.dirname(repo.root), "other");
    await execa("git", ["clone", "-q", origin, other], { env: gitEnv(repo.home) });
    for (const branch of ["release-9", "release-10"]) {
      await execa("git", ["-C", other, "branch", branch, "origin/main"], {
        env: gitEnv(repo.home),
      });
      await execa("git", ["-C", other, "push", "-q", "origin", branch], { env: gitEnv(repo.home) });
    }
    const paste = (command: string) => runAsPrinted(command, { cwd: "/", home: repo.home });
    const plan = `conductor -C ${shellQuote(repo.root)} plan`;
    const git = `git -C ${shellQuote(repo.root)}`;

    await writeConfig([{ id: "later", prompt: "p", from: "release-9" }]);
    const refused = await paste(plan);
    expect(refused.exitCode, refused.all).toBe(2);
    const fetch = /fetch it first \((git [^)]+)\)/.exec(refused.stderr)?.[1];
    expect(fetch, refused.stderr).toBe(`${git} fetch origin release-9:release-9`);
    expect((await paste(fetch as string)).exitCode).toBe(0);
    expect((await paste(plan)).exitCode).toBe(0);

    await repo.git("fetch", "-q", "origin");
    await writeConfig([{ id: "later", prompt: "p", from: "release-10" }]);
    const tracked = await paste(plan);
    expect(tracked.exitCode, tracked.all).toBe(2);
    const local = /make it local first \((git [^)]+)\)/.exec(tracked.stderr)?.[1];
    expect(local, tracked.stderr).toBe(`${git} branch --no-track release-10 origin/release-10`);
    expect((await paste(local as string)).exitCode).toBe(0);
    expect((await paste(plan)).exitCode).toBe(0);

    await writeConfig([
      { id: "no-such-branch", prompt: "p", branch: "topic" },
      { id: "remote-only", prompt: "p", branch: "release-11" },
    ]);
    await execa("git", ["-C", other, "branch", "release-11", "origin/main"], {
      env: gitEnv(repo.home),
    });
    await execa("git", ["-C", other, "push", "-q", "origin", "release-11"], {
      env: gitEnv(repo.home),
    });
    await repo.git("fetch", "-q", "origin");
    const branches = await paste(plan);
    expect(branches.exitCode, branches.all).toBe(2);
    expect(branches.stderr).toContain(`create it (${git} branch topic <start>)`);
    const track = /make it local first: (git .+)$/m.exec(branches.stderr)?.[1];
    expect(track, branches.stderr).toBe(`${git} branch --track release-11 origin/release-11`);
    expect((await paste(track as string)).exitCode).toBe(0);
    await writeConfig([{ id: "remote-only", prompt: "p", branch: "release-11" }]);
    expect((await paste(plan)).exitCode).toBe(0);
  });

  it("validate refuses conflicting starts without touching git", async () => {
    await writeConfig([
      { id: "both", prompt: "p", from: "v1", branch: "feature" },
      { id: "dep", prompt: "p" },
      { id: "after", prompt: "p", from: "v1", depends_on: ["dep"] },
      { id: "many", prompt: "p", branch: "feature", attempts: 2 },
    ]);
    const result = await run(["validate"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      "tasks[0].branch: set only one of from, branch: each says where the task starts",
    );
    expect(result.stderr).toContain(
      "tasks[2].from: a task with depends_on starts from its dependency's branch; remove one of the two",
    );
    expect(result.stderr).toContain(
      "tasks[3].branch: expands to 2 workspaces (attempts or matrix), which cannot all continue on one branch",
    );
  });
});
