// `conductor archive` and `conductor clean` never delete uncommitted or unmerged work without
// --force: a property test over random worktree states, checked against a model of what would
// be lost.
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import { gitEnv, type TestRepo } from "../helpers/git-repo.js";
import { repoWithConfig } from "../helpers/run-repo.js";
import { gitIn, hasStackTrace, Random, SEED, seedFor, treeSnapshot } from "./rig.js";

const REPOS = Number(process.env.RELIABILITY_ARCHIVE_REPOS ?? 4);
const WORKSPACES_PER_REPO = 6;

/** One random state of a workspace's worktree and branch, and how it is archived. */
interface WorktreeState {
  /** The agent changed a file, so conductor committed it on the branch. */
  agentCommitted: boolean;
  /** A commit made by hand in the worktree after the run. */
  extraCommit: boolean;
  /** The branch is on the local bare "origin": at its tip, or as it was before the extra commit. */
  push: "none" | "tip" | "before-extra-commit";
  /** The branch was merged into main. */
  merged: boolean;
  modifiedTracked: boolean;
  deletedTracked: boolean;
  untracked: boolean;
  staged: boolean;
  /** A new gitignored file (build output): not work. */
  ignored: boolean;
  deleteBranch: boolean;
}

function randomState(random: Random): WorktreeState {
  return {
    agentCommitted: random.chance(0.6),
    extraCommit: random.chance(0.35),
    push: random.pick(["none", "none", "none", "tip", "before-extra-commit"] as const),
    merged: random.chance(0.2),
    modifiedTracked: random.chance(0.12),
    deletedTracked: random.chance(0.06),
    untracked: random.chance(0.12),
    staged: random.chance(0.1),
    ignored: random.chance(0.3),
    deleteBranch: random.chance(0.6),
  };
}

/** The model: what archiving would lose, from the state alone. */
function wouldLose(state: WorktreeState): { uncommitted: boolean; commits: boolean } {
  const uncommitted =
    state.modifiedTracked || state.deletedTracked || state.untracked || state.staged;
  const pushedTip =
    state.push === "tip" || (state.push === "before-extra-commit" && !state.extraCommit);
  const hasCommits = state.agentCommitted || state.extraCommit;
  return { uncommitted, commits: hasCommits && !state.merged && !pushedTip };
}

function describeState(state: WorktreeState): string {
  return Object.entries(state)
    .filter(([, value]) => value !== false && value !== "none")
    .map(([key, value]) => (value === true ? key : `${key}=${value}`))
    .join(", ");
}

/** How the random cases fell, printed at the end so a run shows what it covered. */
const tally = { refused: 0, archived: 0, refusedForCommitsOnly: 0, deletedBranch: 0 };
afterAll(() => console.log(`archive cases (seed ${SEED}): ${JSON.stringify(tally)}`));

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** A repository with a local bare "origin", a copied file that git would see, and a context file. */
async function archiveRepo(committing: readonly boolean[]): Promise<TestRepo> {
  const test = await repoWithConfig(
    {
      concurrency: 3,
      workspaces: { copy: ["local.cfg"], context: ["docs/notes.md"] },
      agent: { kind: "command", command: "true" },
      tasks: committing.map((commits, index) => ({
        id: `w${index}`,
        prompt: `work ${index}`,
        ...(commits
          ? { agent: { command: 'echo "$CONDUCTOR_TASK_ID" > "work-$CONDUCTOR_TASK_ID.txt"' } }
          : {}),
      })),
    },
    { ".gitignore": "build/\n", "docs/notes.md": "notes\n", "tracked.txt": "tracked\n" },
  );
  // Not gitignored on purpose: a copied file git can see must still not count as work.
  writeFileSync(path.join(test.root, "local.cfg"), "copied=1\n");
  const origin = path.join(path.dirname(test.root), "origin.git");
  await execa("git", ["init", "-q", "--bare", origin], { env: gitEnv(test.home) });
  await test.git("remote", "add", "origin", origin);
  return test;
}

/** Puts a workspace's worktree and branch into `state` (the agent's commit is already there). */
async function shape(test: TestRepo, name: string, state: WorktreeState): Promise<void> {
  const worktree = path.join(test.home, "workspaces", name);
  const branch = `conductor/${name}`;
  if (state.push === "before-extra-commit")
    await gitIn(test, worktree, "push", "-q", "origin", branch);
  if (state.extraCommit) {
    writeFileSync(path.join(worktree, `extra-${name}.txt`), "by hand\n");
    await gitIn(test, worktree, "add", `extra-${name}.txt`);
    await gitIn(test, worktree, "commit", "-q", "-m", "by hand");
  }
  if (state.push === "tip") await gitIn(test, worktree, "push", "-q", "origin", branch);
  if (state.merged) await test.git("merge", "-q", "--no-edit", branch);
  if (state.modifiedTracked) writeFileSync(path.join(worktree, "tracked.txt"), "changed\n");
  if (state.deletedTracked) rmSync(path.join(worktree, "README.md"));
  if (state.untracked) writeFileSync(path.join(worktree, `new-${name}.txt`), "new\n");
  if (state.staged) {
    writeFileSync(path.join(worktree, `staged-${name}.txt`), "staged\n");
    await gitIn(test, worktree, "add", `staged-${name}.txt`);
  }
  if (state.ignored) {
    mkdirSync(path.join(worktree, "build"), { recursive: true });
    writeFileSync(path.join(worktree, "build", "out.js"), "built\n");
  }
}

async function tipOf(test: TestRepo, branch: string): Promise<string | undefined> {
  const out = await test
    .git("rev-parse", "--verify", "--quiet", `refs/heads/${branch}`)
    .catch(() => "");
  return out.trim() === "" ? undefined : out.trim();
}

/** Whether `commit` is still reachable from main or any remote-tracking branch. */
async function keptElsewhere(test: TestRepo, commit: string): Promise<boolean> {
  const out = await test.git("branch", "--all", "--contains", commit);
  return out.split("\n").some((line) => /^\s*(\* )?(main|remotes\/origin\/)/.test(line));
}

describe(`conductor archive over random worktree states (seed ${SEED})`, () => {
  it.each(Array.from({ length: REPOS }, (_, index) => index + 1))(
    "repository %i: refuses exactly when uncommitted or unmerged work would be lost, keeps it all when it refuses, and proceeds with --force",
    async (repoIndex) => {
      const random = new Random(seedFor(`archive:${repoIndex}`));
      const states = Array.from({ length: WORKSPACES_PER_REPO }, () => randomState(random));
      repo = await archiveRepo(states.map((state) => state.agentCommitted));
      const test = repo;
      const run = await conductor(["run", "--output", "plain"], {
        cwd: test.root,
        home: test.home,
      });
      expect(run.exitCode, run.all).toBe(0);

      for (const [index, state] of states.entries()) {
        const name = `w${index}`;
        const branch = `conductor/${name}`;
        const worktree = path.join(test.home, "workspaces", name);
        await shape(test, name, state);
        const story = `seed ${SEED}, repository ${repoIndex}, ${name}: ${describeState(state)}`;
        const loss = wouldLose(state);
        const refuse = loss.uncommitted || (state.deleteBranch && loss.commits);
        const before = {
          files: treeSnapshot(worktree),
          status: await gitIn(test, worktree, "status", "--porcelain=v1", "--untracked-files=all"),
          tip: await tipOf(test, branch),
        };
        const flags = state.deleteBranch ? ["--delete-branch"] : [];
        tally[refuse ? "refused" : "archived"]++;
        if (refuse && !loss.uncommitted) tally.refusedForCommitsOnly++;
        if (state.deleteBranch) tally.deletedBranch++;

        const archived = await conductor(["archive", name, ...flags], {
          cwd: test.root,
          home: test.home,
        });
        expect(hasStackTrace(archived.all), archived.all).toBe(false);
        if (refuse) {
          expect(archived.exitCode, `${story}\n${archived.all}`).toBe(1);
          expect(archived.stderr).toContain("would lose work");
          // Everything is still there, exactly as it was.
          expect(treeSnapshot(worktree), story).toEqual(before.files);
          expect(
            await gitIn(test, worktree, "status", "--porcelain=v1", "--untracked-files=all"),
          ).toBe(before.status);
          expect(await tipOf(test, branch)).toBe(before.tip);

          const forced = await conductor(["archive", name, ...flags, "--force"], {
            cwd: test.root,
            home: test.home,
          });
          expect(forced.exitCode, `${story}\n${forced.all}`).toBe(0);
        } else {
          expect(archived.exitCode, `${story}\n${archived.all}`).toBe(0);
          // Whatever went with the branch is kept on main or the remote.
          if (state.deleteBranch && before.tip !== undefined) {
            expect(await keptElsewhere(test, before.tip), story).toBe(true);
          }
        }
        expect(existsSync(worktree), story).toBe(false);
        expect(await tipOf(test, branch), story).toBe(state.deleteBranch ? undefined : before.tip);
      }
    },
  );
});

describe(`conductor clean over random reappeared worktrees (seed ${SEED})`, () => {
  it.each([1, 2, 3])(
    "round %i: removes reappeared worktrees of archived workspaces only when nothing uncommitted is in them (or with --force), and never deletes a branch",
    async (round) => {
      const random = new Random(seedFor(`clean:${round}`));
      repo = await archiveRepo([true, true, true, false]);
      const test = repo;
      const options = { cwd: test.root, home: test.home };
      expect((await conductor(["run", "--output", "plain"], options)).exitCode).toBe(0);
      expect((await conductor(["archive", "--all"], options)).exitCode).toBe(0);
      // Worktrees come back by hand (a reviewer checks a branch out again) and get random changes.
      const dirty = new Map<string, boolean>();
      for (const name of ["w0", "w1", "w2", "w3"]) {
        if (random.chance(0.3)) continue;
        const worktree = path.join(test.home, "workspaces", name);
        await test.git("worktree", "add", "-q", worktree, `conductor/${name}`);
        const change = random.pick(["none", "none", "untracked", "modified", "staged"] as const);
        if (change === "untracked") writeFileSync(path.join(worktree, "wip.txt"), "wip\n");
        if (change === "modified") writeFileSync(path.join(worktree, "tracked.txt"), "wip\n");
        if (change === "staged") {
          writeFileSync(path.join(worktree, "wip.txt"), "wip\n");
          await gitIn(test, worktree, "add", "wip.txt");
        }
        dirty.set(name, change !== "none");
      }
      const listBranches = () =>
        test.git("for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/conductor/");
      const branches = await listBranches();
      const story = `seed ${SEED}, round ${round}: ${JSON.stringify([...dirty])}`;
      const snapshots = new Map(
        [...dirty.keys()].map((name) => [
          name,
          treeSnapshot(path.join(test.home, "workspaces", name)),
        ]),
      );

      const cleaned = await conductor(["clean"], options);
      expect(hasStackTrace(cleaned.all), cleaned.all).toBe(false);
      if ([...dirty.values()].some(Boolean)) {
        expect(cleaned.exitCode, `${story}\n${cleaned.all}`).toBe(1);
        expect(cleaned.stderr).toContain("would lose work");
        // Nothing was removed: not even the clean worktrees (the refusal comes first).
        for (const [name, snapshot] of snapshots) {
          expect(
            treeSnapshot(path.join(test.home, "workspaces", name)),
            `${story}: ${name}`,
          ).toEqual(snapshot);
        }
        const forced = await conductor(["clean", "--force"], options);
        expect(forced.exitCode, `${story}\n${forced.all}`).toBe(0);
      } else {
        expect(cleaned.exitCode, `${story}\n${cleaned.all}`).toBe(0);
      }
      for (const name of dirty.keys()) {
        expect(existsSync(path.join(test.home, "workspaces", name)), `${story}: ${name}`).toBe(
          false,
        );
      }
      expect(await listBranches()).toBe(branches);
    },
  );
});
