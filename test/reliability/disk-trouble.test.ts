// Disk trouble: a workspaces folder that cannot be written, a state folder removed or replaced
// while a run works. Each ends with a clear error (never a crash), no lost work, nothing left
// running, and a run that can be finished once the disk is fixed.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { processesOfRun, repoWithConfig, runIds } from "../helpers/run-repo.js";
import {
  hasStackTrace,
  killLeftovers,
  makeCheckoutBusy,
  newestRunId,
  pollUntil,
  snapshotCheckout,
  startTracked,
  stepHasStarted,
  stopStarted,
  workspaceHasFinished,
} from "./rig.js";

/** Root ignores permission bits, so chmod cannot make a folder unwritable for it. */
const RUNNING_AS_ROOT = process.getuid?.() === 0;

let repo: TestRepo | undefined;
let runId: string | undefined;
const restore: (() => void)[] = [];
afterEach(async () => {
  stopStarted();
  for (const undo of restore.splice(0)) undo();
  killLeftovers(runId);
  await repo?.remove();
  repo = undefined;
  runId = undefined;
});

const AGENT = 'echo "$CONDUCTOR_TASK_ID" > work.txt';

/** The JSON summary `conductor status --json` prints, or fails the test with its output. */
async function statusOf(
  test: TestRepo,
  id?: string,
): Promise<{
  status: string;
  workspaces: {
    name: string;
    status: string;
    commit: string | null;
    failure: { reason: string; step: string; message: string } | null;
  }[];
}> {
  const result = await conductor(["status", ...(id ? [id] : []), "--json"], {
    cwd: test.root,
    home: test.home,
  });
  expect(result.exitCode, result.all).toBe(0);
  return JSON.parse(result.stdout);
}

describe("a workspaces folder that cannot be written", () => {
  const ways = [
    {
      means: "its path runs through a regular file",
      applies: true,
      block: (home: string) => {
        writeFileSync(path.join(home, "blocker"), "a file where a folder should be\n");
        return {
          dir: path.join(home, "blocker", "workspaces"),
          fix: () => rmSync(path.join(home, "blocker")),
        };
      },
    },
    {
      means:
        "its parent is read-only (chmod 555; not possible as root, which ignores permission bits)",
      applies: !RUNNING_AS_ROOT,
      block: (home: string) => {
        const parent = path.join(home, "readonly");
        mkdirSync(parent);
        chmodSync(parent, 0o555);
        restore.push(() => chmodSync(parent, 0o755));
        return { dir: path.join(parent, "workspaces"), fix: () => chmodSync(parent, 0o755) };
      },
    },
  ];

  for (const way of ways) {
    it.skipIf(!way.applies)(
      `(${way.means}): the run fails with a clear error and no stack, leaves no branch or half-made worktree, and --resume finishes it once fixed`,
      async () => {
        repo = await repoWithConfig({
          agent: { kind: "command", command: AGENT },
          tasks: [
            { id: "one", prompt: "1" },
            { id: "two", prompt: "2" },
          ],
        });
        const { dir, fix } = way.block(repo.home);
        const config = readFileSync(path.join(repo.root, "conductor.yaml"), "utf8").replace(
          /dir: .*/,
          `dir: ${dir}`,
        );
        await repo.write({ "conductor.yaml": config });
        await repo.commitAll("workspaces in an unwritable place");
        await makeCheckoutBusy(repo);
        const before = await snapshotCheckout(repo);

        const result = await conductor(["run", "--output", "plain"], {
          cwd: repo.root,
          home: repo.home,
        });
        expect(hasStackTrace(result.all), result.all).toBe(false);
        expect(result.all).not.toContain("internal error");
        if (result.exitCode === 2) {
          // Refused up front: it names the folder, and nothing was started.
          expect(result.stderr).toContain(path.dirname(dir));
        } else {
          expect(result.exitCode, result.all).toBe(1);
          runId = newestRunId(repo.root);
          const state = await statusOf(repo);
          for (const workspace of state.workspaces) {
            expect(workspace.status).toBe("failed");
            expect(workspace.failure?.step).toBe("worktree");
            expect(workspace.failure?.message, JSON.stringify(workspace)).toMatch(
              /not a directory|permission denied|EACCES|ENOTDIR/i,
            );
          }
        }
        expect((await repo.git("branch", "--list", "conductor/*")).trim()).toBe("");
        expect(
          (await repo.git("worktree", "list", "--porcelain")).match(/^worktree /gm),
        ).toHaveLength(1);
        expect(await snapshotCheckout(repo)).toEqual(before);

        fix();
        const again =
          result.exitCode === 2
            ? await conductor(["run", "--output", "plain"], { cwd: repo.root, home: repo.home })
            : await conductor(["run", "--resume", "--output", "plain"], {
                cwd: repo.root,
                home: repo.home,
              });
        expect(again.exitCode, again.all).toBe(0);
        expect(await repo.git("show", "conductor/one:work.txt")).toBe("one");
        expect(await repo.git("show", "conductor/two:work.txt")).toBe("two");
      },
    );
  }
});

/**
 * Removes a folder that conductor keeps writing to: moved away first (conductor sees it gone at
 * once), then deleted.
 */
function removeWhileInUse(dir: string): void {
  const away = `${dir}.removed`;
  renameSync(dir, away);
  rmSync(away, { recursive: true, force: true, maxRetries: 20, retryDelay: 25 });
}

/** Puts a file where the folder was, even if conductor makes the folder again meanwhile. */
function replaceWithFile(dir: string): void {
  for (let attempt = 0; attempt < 20; attempt++) {
    if (existsSync(dir)) removeWhileInUse(dir);
    try {
      writeFileSync(dir, "not a folder\n", { flag: "wx" });
      return;
    } catch {
      // conductor made the folder again in between; once more
    }
  }
  throw new Error(`could not put a file in place of ${dir}`);
}

describe("the state folder of a running run", () => {
  /** A run whose agent of `one` waits for a flag, so the test can pull the disk from under it. */
  async function runWaitingInAgent(test: TestRepo) {
    const flag = path.join(test.home, "go");
    const child = startTracked(["run", "--output", "plain"], { cwd: test.root, home: test.home });
    runId = await pollUntil(() => newestRunId(test.root), "the run folder");
    const id = runId;
    await pollUntil(() => stepHasStarted(test.root, id, "one", "agent"), "the agent of one");
    await pollUntil(() => existsSync(path.join(test.home, "waiting")), "the agent to wait");
    // zero commits outside its slot, possibly still while one's agent runs: its branch is final
    // once the workspace finished.
    await pollUntil(() => workspaceHasFinished(test.root, id, "zero"), "zero to finish");
    return { child, id, go: () => writeFileSync(flag, "") };
  }

  const config = {
    concurrency: 1,
    agent: {
      kind: "command",
      command: `${AGENT}; if [ "$CONDUCTOR_TASK_ID" = one ]; then touch "$HOME/waiting"; while [ ! -f "$HOME/go" ]; do sleep 0.05; done; fi`,
    },
    scripts: { check: "test -s work.txt" },
    tasks: [
      { id: "zero", prompt: "0" },
      { id: "one", prompt: "1" },
      { id: "two", prompt: "2" },
    ],
  };

  it("removed mid-run: the run still finishes and commits every workspace, and status and resume still read it", async () => {
    repo = await repoWithConfig(config);
    const { child, id, go } = await runWaitingInAgent(repo);
    const zeroBefore = (await repo.git("rev-parse", "conductor/zero")).trim();
    removeWhileInUse(path.join(repo.root, ".conductor", "runs", id));
    go();
    const result = await child;

    expect(hasStackTrace(result.all), result.all).toBe(false);
    expect(result.exitCode, result.all).toBe(0);
    // No committed work was lost, and the work done after the removal was committed too.
    expect(
      await repo.git("merge-base", "--is-ancestor", zeroBefore, "conductor/zero").then(
        () => true,
        () => false,
      ),
    ).toBe(true);
    for (const name of ["zero", "one", "two"]) {
      expect(await repo.git("show", `conductor/${name}:work.txt`)).toBe(name);
    }
    expect(runIds(repo.root)).toEqual([id]);
    const state = await statusOf(repo, id);
    expect(state.status).toBe("succeeded");
    expect(state.workspaces.map((w) => w.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(processesOfRun(id)).toEqual([]);
  });

  it("replaced by a file mid-run: conductor stops with a clear error (no stack), ends its processes, and keeps the committed work", async () => {
    repo = await repoWithConfig(config);
    const { child, id, go } = await runWaitingInAgent(repo);
    const zeroBefore = (await repo.git("rev-parse", "conductor/zero")).trim();
    const dir = path.join(repo.root, ".conductor", "runs", id);
    replaceWithFile(dir);
    restore.push(() => rmSync(dir, { force: true }));
    go();
    const result = await child;

    expect(hasStackTrace(result.all), result.all).toBe(false);
    expect(result.all).not.toContain("internal error");
    expect([1, 2], result.all).toContain(result.exitCode);
    expect(result.stderr).toContain(dir);
    expect((await repo.git("rev-parse", "conductor/zero")).trim()).toBe(zeroBefore);
    expect(await repo.git("show", "conductor/zero:work.txt")).toBe("zero");
    // The agent that was working when the folder went finished, and its work was committed.
    expect(await repo.git("show", "conductor/one:work.txt")).toBe("one");
    expect(processesOfRun(id)).toEqual([]);
  });
});
