// When an agent about to start may take the look a clean check just took as its baseline instead
// of reading the repository again: only a fresh look, only while no check can be putting refs
// back, and never across a check that repaired or refused something or a branch conductor moved.
import { afterEach, describe, expect, it } from "vitest";
import type { RunRecorder } from "../../src/executor/recorder.js";
import { RefLedger, type RepositoryLook, SHARED_LOOK_MS } from "../../src/executor/ref-ledger.js";
import { takePlainBranch } from "../../src/executor/selection/pick-winner.js";
import { GitMetadataQueue } from "../../src/git/worktree.js";
import type { Plan, TaskSelection } from "../../src/planner/types.js";
import { monotonicMs } from "../../src/timers/monotonic.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

function look(takenAt: number): RepositoryLook {
  return {
    refs: new Map([["refs/heads/main", { oid: "a".repeat(40), symref: "" }]]),
    checkout: new Map(),
    gitFiles: { dir: "/repo/.git", config: undefined, hooksFolder: "folder", hooks: new Map() },
    spotlight: undefined,
    statuses: new Map([["one", "running"]]),
    takenAt,
    takenAtTime: Date.now(),
  };
}

/** A check that starts and ends at once, clean with `seen` or not clean. */
function check(ledger: RefLedger, seen: RepositoryLook | undefined): void {
  ledger.checkEnded(ledger.checkStarted(), seen);
}

describe("RefLedger's shared look", () => {
  it("hands out the newest clean check's look while it is fresh, and none after", () => {
    const ledger = new RefLedger();
    expect(ledger.recentLook(1000)).toBeUndefined();
    const first = look(1000);
    const second = look(1010);
    check(ledger, second);
    check(ledger, first);
    expect(ledger.recentLook(1020)).toBe(second);
    expect(ledger.recentLook(1010 + SHARED_LOOK_MS)).toBe(second);
    expect(ledger.recentLook(1011 + SHARED_LOOK_MS)).toBeUndefined();
  });

  it("hands out none while a check runs: it may be putting refs back", () => {
    const ledger = new RefLedger();
    check(ledger, look(1000));
    const running = ledger.checkStarted();
    expect(ledger.recentLook(1001)).toBeUndefined();
    ledger.checkEnded(running, look(1002));
    expect(ledger.recentLook(1003)?.takenAt).toBe(1002);
  });

  it("never hands out a look taken before a check that repaired or refused something ended", () => {
    const ledger = new RefLedger();
    const before = monotonicMs();
    const clean = ledger.checkStarted();
    check(ledger, undefined); // repaired a moved ref, after the other check's look
    ledger.checkEnded(clean, look(before));
    expect(ledger.recentLook(before + 1)).toBeUndefined();
    const after = monotonicMs() + 1;
    check(ledger, look(after));
    expect(ledger.recentLook(after + 1)?.takenAt).toBe(after);
  });
});

/** Task `fix`, best of two: the winner's branch takes the plain name `conductor/fix`. */
const FIX: TaskSelection = {
  taskId: "fix",
  mode: "best",
  candidates: [
    { name: "fix", branch: "conductor/fix-1" },
    { name: "fix-2", branch: "conductor/fix-2" },
  ],
  branch: "conductor/fix",
  archiveLosers: false,
  dependents: [],
};

/** What takePlainBranch needs of a run whose candidate `fix` recorded the commit `recorded`. */
function winnerRun(test: TestRepo, ledger: RefLedger, recorded: string) {
  return {
    plan: { repo: { root: test.root } } as Plan,
    queue: new GitMetadataQueue(),
    refLedger: ledger,
    recorder: { state: { workspaces: { fix: { commit: recorded } } } } as unknown as RunRecorder,
  };
}

describe("RefLedger and the branches conductor moves", () => {
  it("hands out no look while conductor moves branches, nor one taken before", async () => {
    const ledger = new RefLedger();
    const before = monotonicMs();
    check(ledger, look(before));
    let during: RepositoryLook | undefined;
    await ledger.movingBranches(
      async () => {
        during = ledger.recentLook(before + 1);
      },
      new Map(),
      async () => new Map(),
    );
    expect(during).toBeUndefined();
    expect(ledger.recentLook(before + 1)).toBeUndefined();
    const after = monotonicMs() + 1;
    check(ledger, look(after));
    expect(ledger.recentLook(after + 1)?.takenAt).toBe(after);
  });

  it("takes what conductor meant for its own change, also after a move that failed half way, but no value it did not mean", async () => {
    const ledger = new RefLedger();
    const since = monotonicMs();
    const meant = new Map([
      ["refs/heads/conductor/fix-1", undefined],
      ["refs/heads/conductor/fix", "b".repeat(40)],
    ]);
    // An agent took the plain name first (at c…), so git refused the rename.
    const found = new Map([
      ["refs/heads/conductor/fix-1", "b".repeat(40)],
      ["refs/heads/conductor/fix", "c".repeat(40)],
    ]);
    await expect(
      ledger.movingBranches(
        async () => {
          throw new Error("fatal: a branch named 'conductor/fix' already exists");
        },
        meant,
        async () => found,
      ),
    ).rejects.toThrow("already exists");
    const own = (ref: string, after: string | undefined) =>
      ledger.isConductorsChange({ ref, after }, since);
    expect(own("refs/heads/conductor/fix", "c".repeat(40))).toBe(false);
    expect(own("refs/heads/conductor/fix", "b".repeat(40))).toBe(false);
    expect(own("refs/heads/conductor/fix-1", undefined)).toBe(false);

    // A move that did what conductor meant: both refs are its own, for checks of older looks.
    await ledger.movingBranches(
      async () => {},
      meant,
      async () => meant,
    );
    expect(own("refs/heads/conductor/fix-1", undefined)).toBe(true);
    expect(own("refs/heads/conductor/fix", "b".repeat(40))).toBe(true);
    // Moved again after conductor, by someone else; or a ref conductor never moved.
    expect(own("refs/heads/conductor/fix", "c".repeat(40))).toBe(false);
    expect(own("refs/heads/main", "c".repeat(40))).toBe(false);
    expect(
      ledger.isConductorsChange(
        { ref: "refs/heads/conductor/fix-1", after: undefined },
        monotonicMs() + 1,
      ),
    ).toBe(false);
  });

  it("is told when a best-of winner takes its task's plain branch name", async () => {
    // A look from before the move would blame the next agent to start for it: the loser's name
    // gone and the plain name new, while the workspace that owned them is no longer running.
    const test = await createTestRepo();
    repo = test;
    await test.git("branch", "conductor/fix-1");
    const ledger = new RefLedger();
    const before = monotonicMs();
    check(ledger, look(before));
    const recorded = (await test.git("rev-parse", "conductor/fix-1")).trim();
    expect(await takePlainBranch(winnerRun(test, ledger, recorded), FIX, "fix", undefined)).toEqual(
      {
        branch: "conductor/fix",
      },
    );
    expect(await test.git("branch", "--list", "--format=%(refname:short)", "conductor/*")).toBe(
      "conductor/fix",
    );
    expect(ledger.recentLook(before + 1)).toBeUndefined();
    const tip = (await test.git("rev-parse", "conductor/fix")).trim();
    expect(
      ledger.isConductorsChange({ ref: "refs/heads/conductor/fix-1", after: undefined }, before),
    ).toBe(true);
    expect(ledger.isConductorsChange({ ref: "refs/heads/conductor/fix", after: tip }, before)).toBe(
      true,
    );
  });

  it("never takes for its own a commit an agent put on the winner's branch before the move", async () => {
    const test = await createTestRepo();
    repo = test;
    await test.git("branch", "conductor/fix-1");
    const recorded = (await test.git("rev-parse", "conductor/fix-1")).trim();
    // Another workspace's agent moves the finished winner's branch to a commit of its own.
    await test.write({ "evil.txt": "x\n" });
    await test.git("add", "evil.txt");
    await test.git("commit", "-q", "-m", "evil");
    const evil = (await test.git("rev-parse", "HEAD")).trim();
    await test.git("update-ref", "refs/heads/conductor/fix-1", evil);
    const ledger = new RefLedger();
    const before = monotonicMs();
    await takePlainBranch(winnerRun(test, ledger, recorded), FIX, "fix", undefined);
    // The plain name now holds the agent's commit: the agent's check must still see that.
    expect((await test.git("rev-parse", "conductor/fix")).trim()).toBe(evil);
    expect(
      ledger.isConductorsChange({ ref: "refs/heads/conductor/fix", after: evil }, before),
    ).toBe(false);
  });
});

describe("RefLedger's settled look", () => {
  it("waits for the checks running now, then hands out the look if they ended clean", async () => {
    const ledger = new RefLedger();
    const taken = monotonicMs();
    check(ledger, look(taken));
    const running = ledger.checkStarted();
    let settled = false;
    const waiting = ledger.settledLook().then((found) => {
      settled = true;
      return found;
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(settled).toBe(false);
    ledger.checkEnded(running, look(taken - 1)); // older than the one offered: that one stays
    expect((await waiting)?.takenAt).toBe(taken);
  });

  it("hands out nothing when a check it waited for repaired or refused something", async () => {
    const ledger = new RefLedger();
    check(ledger, look(monotonicMs()));
    const running = ledger.checkStarted();
    const waiting = ledger.settledLook();
    ledger.checkEnded(running, undefined);
    expect(await waiting).toBeUndefined();
  });

  it("never waits for checks that start while it waits, and shares nothing while they run", async () => {
    const ledger = new RefLedger();
    check(ledger, look(monotonicMs()));
    const first = ledger.checkStarted();
    const waiting = ledger.settledLook();
    const later = ledger.checkStarted();
    ledger.checkEnded(first, look(monotonicMs()));
    expect(await waiting).toBeUndefined();
    ledger.checkEnded(later, look(monotonicMs()));
  });
});
