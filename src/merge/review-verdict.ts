import { type ReviewResult, readReviewResult, reviewFile } from "../reviewing/result.js";

/**
 * What `checks` reads of a workspace's `review.json` (written by `conductor review` into the
 * workspace's run folder): how the review ended, its verdict and the priorities of its open
 * findings. The reading itself lives in `src/reviewing/result.ts`, shared with other commands.
 */
export interface ReviewVerdict {
  status: ReviewResult["status"];
  correct: boolean | undefined;
  /** Open findings by priority (0 = P0 … 3 = P3). */
  byPriority: [number, number, number, number];
  /** The commit that was reviewed, when the review says. */
  head?: string;
}

export { reviewFile };

/** The review verdict of a workspace, undefined when it was not reviewed. */
export async function readReviewVerdict(
  root: string,
  runId: string,
  workspace: string,
): Promise<ReviewVerdict | undefined> {
  const result = await readReviewResult(root, runId, workspace);
  if (result === undefined) return undefined;
  const correct =
    result.verdict === "correct" ? true : result.verdict === "incorrect" ? false : undefined;
  return {
    status: result.status,
    correct,
    byPriority: result.byPriority,
    ...(result.head === undefined ? {} : { head: result.head }),
  };
}
