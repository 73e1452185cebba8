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
  ref: string;
  /** The sentence that describes it (what changed and what conductor did about it). */
  description: string;
  /** The workspace whose check found it. */
  foundBy: string;
  /** `performance.now()` when it was found. */
  foundAt: number;
}

/** The ledger of one run (kept in memory: it only matters while the run's agents work). */
export class RefLedger {
  private readonly found: ForeignRefChange[] = [];
  private readonly claimed = new Set<string>();

  /** Records that a workspace's check took `ref` as its own work (a branch name its agent made). */
  claim(ref: string): void {
    this.claimed.add(ref);
  }

  /** Whether a workspace of the run took `ref` as its own. */
  isClaimed(ref: string): boolean {
    return this.claimed.has(ref);
  }

  /** Records a change a workspace's check could not account for. */
  record(change: ForeignRefChange): void {
    this.found.push(change);
  }

  /** Changes other workspaces' checks found after `since` (while the asking agent ran). */
  foundByOthersSince(workspace: string, since: number): ForeignRefChange[] {
    return this.found.filter((change) => change.foundBy !== workspace && change.foundAt > since);
  }
}
