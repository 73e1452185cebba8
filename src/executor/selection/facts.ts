import type { TaskSelection } from "../../planner/types.js";
import type { CandidateFacts } from "../../selection/rank.js";
import type { RunState } from "../types.js";

/** A workspace's review verdict as the ranking uses it; undefined when it was not reviewed. */
export type ReviewReader = (
  workspace: string,
) => Promise<{ correct: boolean | undefined; openP0P1: number } | undefined>;

/** What the ranking needs of each candidate, from the run state and the reviews. */
export async function candidateFacts(
  state: RunState,
  selection: TaskSelection,
  reviewOf: ReviewReader | undefined,
): Promise<CandidateFacts[]> {
  return Promise.all(
    selection.candidates.map(async ({ name }) => {
      const workspace = state.workspaces[name];
      const review = reviewOf === undefined ? undefined : await reviewOf(name);
      return {
        name,
        status: workspace?.status ?? "pending",
        check: workspace?.check,
        diffLines:
          workspace?.diff === undefined
            ? undefined
            : workspace.diff.insertions + workspace.diff.deletions,
        finishedAt: workspace?.finishedAt,
        ...(review === undefined ? {} : { review }),
      };
    }),
  );
}

/**
 * Whether the task's winner can be picked now: with `best` once every candidate has finished
 * for good (an interrupted one is resumed first), with `first-passing` as soon as one passed.
 */
export function selectionReady(state: RunState, selection: TaskSelection): boolean {
  const statuses = selection.candidates.map(
    ({ name }) => state.workspaces[name]?.status ?? "pending",
  );
  if (selection.mode === "first-passing" && statuses.includes("succeeded")) return true;
  return statuses.every((status) => ["succeeded", "failed", "skipped"].includes(status));
}
