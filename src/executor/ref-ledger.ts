import type { GitFilesLook } from "../git/git-files.js";
import type { CheckoutFingerprint, RefSnapshot } from "../git/integrity.js";
import type { SpotlightTrees } from "../git/spotlight-footprint.js";
import { monotonicMs } from "../timers/monotonic.js";
import type { WorkspaceStatus } from "./types.js";

/**
 * What the post-agent checks of one run's workspaces found about refs, shared between them.
 * Agents of a run work at the same time, and a ref changed by one of them shows up in the checks
 * of every workspace whose agent was running then: conductor cannot tell which agent did it. So
 * a workspace's check both records what it found and reads what the others found while its own
 * agent ran; every agent that may have done it fails, and a ref put back by one check does not
 * let the agent that moved it pass.
 */

/** A ref change one workspace's check found and could not account for. */
export interface ForeignRefChange {
  /** A ref, one of the repository's git files (its config, a hook) by its shown name, or the run's record. */
  ref: string;
  kind: "ref" | "git-file" | "record";
  /** The sentence that describes it (what changed and what conductor did about it). */
  description: string;
  /** The workspace whose check found it. */
  foundBy: string;
  /** `monotonicMs()` when it was found. */
  foundAt: number;
}

/**
 * The repository as one look saw it: every ref, the main checkout's status, what Spotlight showed
 * there, and the status of every workspace of the run, read just before the rest (a workspace that
 * finishes while the refs are read still counts as running then).
 */
export interface RepositoryLook {
  refs: RefSnapshot;
  checkout: CheckoutFingerprint;
  /** The repository's git config and hooks (git runs them as code). */
  gitFiles: GitFilesLook;
  spotlight: SpotlightTrees | undefined;
  statuses: ReadonlyMap<string, WorkspaceStatus>;
  /** `monotonicMs()` when it was taken. */
  takenAt: number;
  /** Wall-clock time when it was taken, to compare with other runs' records. */
  takenAtTime: number;
}

/**
 * How old a clean check's look may be for an agent starting now to take it as its own baseline.
 * Its watch then starts that much earlier: a change another running agent makes in that moment is
 * also laid at its door, as any change made while it runs is. Measured between one agent's
 * verification and the next agent's start in the same slot: about 10 ms.
 */
export const SHARED_LOOK_MS = 100;

/** A running check, as {@link RefLedger.checkStarted} hands it out. */
export interface Check {
  ended(): void;
}

/** The ledger of one run (kept in memory: it only matters while the run's agents work). */
export class RefLedger {
  private readonly found: ForeignRefChange[] = [];
  private readonly claimed = new Set<string>();
  /** Refs conductor itself moved during the run: the value it left and when. */
  private readonly moved = new Map<string, { value: string | undefined; at: number }>();
  /** Branches of workspaces that committed their work: the commit conductor left them at. */
  private readonly committed = new Map<string, { value: string; at: number }>();
  private trustedFiles: GitFilesLook | undefined;
  /** Checks running now, each with the promise of its end. */
  private readonly running = new Map<Check, Promise<void>>();
  private cleanLook: RepositoryLook | undefined;
  /**
   * `monotonicMs()` when a check last ended that repaired or refused something, or conductor
   * itself last moved a branch: no look taken before is shared.
   */
  private lastUnclean = Number.NEGATIVE_INFINITY;

  /** Records that a workspace's check took `ref` as its own work (a branch name its agent made). */
  claim(ref: string): void {
    this.claimed.add(ref);
  }

  /** Whether a workspace of the run took `ref` as its own. */
  isClaimed(ref: string): boolean {
    return this.claimed.has(ref);
  }

  /**
   * Records that a workspace's commit step left its branch `ref` at `value`. Its agent is done:
   * from now on the branch moves only by conductor, so a check that finds it elsewhere knows an
   * agent running meanwhile moved it, even though the workspace was running when that agent
   * started.
   */
  committedBranch(ref: string, value: string): void {
    this.committed.set(ref, { value, at: monotonicMs() });
  }

  /**
   * What a workspace's commit step left `ref` at, if it committed before `lookedAt` (see
   * {@link committedBranch}). A look taken before may have caught the branch on its way there.
   */
  committedBefore(ref: string, lookedAt: number): string | undefined {
    const committed = this.committed.get(ref);
    return committed !== undefined && committed.at < lookedAt ? committed.value : undefined;
  }

  /**
   * The git config and hooks as the run's first look saw them (`seen` when this is the first):
   * what a file an agent changed is put back to.
   */
  trustedGitFiles(seen: GitFilesLook): GitFilesLook {
    this.trustedFiles ??= seen;
    return this.trustedFiles;
  }

  /** Records a change a workspace's check could not account for. */
  record(change: ForeignRefChange): void {
    this.found.push(change);
  }

  /** Changes other workspaces' checks found after `since` (while the asking agent ran). */
  foundByOthersSince(workspace: string, since: number): ForeignRefChange[] {
    return this.found.filter((change) => change.foundBy !== workspace && change.foundAt > since);
  }

  /** A workspace's check starts (it may repair refs until it ends); hand the result to checkEnded. */
  checkStarted(): Check {
    let ended = () => {};
    const check: Check = { ended: () => ended() };
    this.running.set(
      check,
      new Promise<void>((resolve) => {
        ended = resolve;
      }),
    );
    return check;
  }

  /**
   * A workspace's check ended: with the look it took when it found nothing to repair or refuse
   * (the repository is as that look saw it, but for what ran since), else undefined.
   */
  checkEnded(check: Check, clean: RepositoryLook | undefined): void {
    if (clean === undefined) this.lastUnclean = monotonicMs();
    else if (this.cleanLook === undefined || clean.takenAt > this.cleanLook.takenAt)
      this.cleanLook = clean;
    this.running.delete(check);
    check.ended();
  }

  /**
   * Runs `move`, conductor's own change of branches (a best-of winner taking its task's plain
   * name), which should leave each ref of `expected` at its value there (undefined: deleted).
   * Then `read` says what they hold, also after a move that failed half way, and each that holds
   * what conductor meant is recorded as conductor's: checks of agents running meanwhile take it
   * for conductor's doing, not their agent's (the workspace whose branch it was may not be
   * running to account for it). A value conductor did not mean (an agent took the name first,
   * or moved the branch before it was renamed) is never recorded. While the move runs no look is
   * shared, and none taken before it is shared after.
   */
  async movingBranches(
    move: () => Promise<void>,
    expected: ReadonlyMap<string, string | undefined>,
    read: () => Promise<ReadonlyMap<string, string | undefined>>,
  ): Promise<void> {
    const check = this.checkStarted();
    try {
      await move();
    } finally {
      const values = await read().catch(() => new Map<string, string | undefined>());
      const at = monotonicMs();
      for (const [ref, value] of expected) {
        if (values.has(ref) && values.get(ref) === value) this.moved.set(ref, { value, at });
      }
      this.checkEnded(check, undefined);
    }
  }

  /**
   * Records a ref a verification put back (or removed) as conductor's own change: the checks of
   * agents that ran meanwhile would otherwise see it as their agent's, and undo it (a removed
   * replace ref made again). The ledger's record of what was found still fails them.
   */
  putBack(ref: string, value: string | undefined): void {
    this.moved.set(ref, { value, at: monotonicMs() });
  }

  /**
   * Whether `change` is conductor's own: it moved the ref after `since` and the ref still holds
   * what conductor left there (a change made on top of it is someone else's).
   */
  isConductorsChange(change: { ref: string; after: string | undefined }, since: number): boolean {
    const own = this.moved.get(change.ref);
    return own !== undefined && own.at >= since && own.value === change.after;
  }

  /**
   * The newest clean check's look, for an agent about to start instead of a look of its own (two
   * git processes fewer on the way from one agent to the next): only while no check is running
   * (one may be putting refs back), when no check has repaired or refused anything and conductor
   * moved no branch since it was taken, and when it is at most {@link SHARED_LOOK_MS} old.
   */
  recentLook(now = monotonicMs()): RepositoryLook | undefined {
    const look = this.cleanLook;
    if (look === undefined || this.running.size > 0) return undefined;
    if (look.takenAt <= this.lastUnclean || now - look.takenAt > SHARED_LOOK_MS) return undefined;
    return look;
  }

  /**
   * {@link recentLook} once the checks running now have ended, if one may still be had by then:
   * agents of a run tend to end together, and waiting a moment for another's check costs less
   * than a look of one's own taken while it runs. Checks that start meanwhile are not waited for
   * (with many slots there may always be one): while one runs, there is no look to share.
   */
  async settledLook(): Promise<RepositoryLook | undefined> {
    const look = this.cleanLook;
    if (look === undefined || look.takenAt <= this.lastUnclean) return undefined;
    if (monotonicMs() - look.takenAt > SHARED_LOOK_MS) return undefined;
    await Promise.all(this.running.values());
    return this.recentLook();
  }
}
