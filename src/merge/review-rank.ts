import type { ReviewReader } from "../executor/selection/facts.js";
import { readReviewVerdict } from "./review-verdict.js";

/**
 * What the best-of-N ranking reads of each candidate's review (`review.json` in the run folder):
 * the verdict and the open P0/P1 findings. Undefined for a workspace that was not reviewed.
 */
export function reviewReaderOf(root: string, runId: string): ReviewReader {
  return async (workspace) => {
    const verdict = await readReviewVerdict(root, runId, workspace);
    if (verdict === undefined) return undefined;
    return { correct: verdict.correct, openP0P1: verdict.byPriority[0] + verdict.byPriority[1] };
  };
}
