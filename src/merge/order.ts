/** One workspace as the merge-order suggestion sees it. */
export interface OrderCandidate {
  name: string;
  /** Lines changed (insertions + deletions): ties go to the bigger piece of work. */
  work: number;
  /** Whether it merges cleanly into the base branch as it is now. */
  cleanAgainstBase: boolean;
  /** Whether the workspace failed (its check, its agent): not to be landed as it is. */
  failed?: boolean;
}

/** A workspace the suggestion does not land now, and why. */
export interface HeldWorkspace {
  name: string;
  /** `base` when it conflicts with the base branch itself, else the workspace landed before it. */
  conflictsWith: string[];
}

/** The suggested merge order: what lands without conflicts, in order, and what must wait. */
export interface MergeOrder {
  land: string[];
  held: HeldWorkspace[];
  /** Failed workspaces, never in the order (`conductor checks` says what blocks them). */
  failed: string[];
}

/**
 * A greedy merge order (pure). Failed workspaces are left out, and workspaces that conflict with
 * the base are held. Of the rest, it repeatedly lands the one that conflicts with the fewest
 * others still waiting (ties: more changed lines, then plan order) and holds back everything that
 * conflicts with it. Landing the least-entangled first keeps the most workspaces landable; an exact answer (a maximum
 * independent set of the conflict graph) is not worth its cost for a suggestion.
 * `conflicting(a, b)` says whether two workspaces conflict.
 */
export function suggestMergeOrder(
  candidates: readonly OrderCandidate[],
  conflicting: (a: string, b: string) => boolean,
): MergeOrder {
  const failed = candidates.filter((candidate) => candidate.failed).map((entry) => entry.name);
  const ready = candidates.filter((candidate) => !candidate.failed);
  const held: HeldWorkspace[] = ready
    .filter((candidate) => !candidate.cleanAgainstBase)
    .map((candidate) => ({ name: candidate.name, conflictsWith: ["base"] }));
  let waiting = ready.filter((candidate) => candidate.cleanAgainstBase);
  const land: string[] = [];
  while (waiting.length > 0) {
    const degree = (name: string) =>
      waiting.filter((other) => other.name !== name && conflicting(name, other.name)).length;
    let best = waiting[0] as OrderCandidate;
    let bestDegree = degree(best.name);
    for (const candidate of waiting.slice(1)) {
      const candidateDegree = degree(candidate.name);
      if (
        candidateDegree < bestDegree ||
        (candidateDegree === bestDegree && candidate.work > best.work)
      ) {
        best = candidate;
        bestDegree = candidateDegree;
      }
    }
    land.push(best.name);
    const rest: OrderCandidate[] = [];
    for (const candidate of waiting) {
      if (candidate === best) continue;
      if (conflicting(best.name, candidate.name)) {
        held.push({ name: candidate.name, conflictsWith: [best.name] });
      } else rest.push(candidate);
    }
    waiting = rest;
  }
  // A held workspace names every landed one it conflicts with, not just the first.
  for (const entry of held) {
    if (entry.conflictsWith[0] === "base") continue;
    entry.conflictsWith = land.filter((name) => conflicting(name, entry.name));
  }
  return { land, held, failed };
}
