import type { AfterSuccess } from "../executor/workspace-runner.js";
import type { Plan } from "../planner/types.js";

/**
 * The reviewing agent as the step after each workspace that succeeded, when the config says
 * `review: auto`; undefined otherwise (its module is loaded only then).
 */
export async function autoReview(plan: Plan): Promise<AfterSuccess | undefined> {
  if (plan.review?.auto !== true) return undefined;
  const { reviewAfterSuccess } = await import("../reviewing/review-workspace.js");
  return reviewAfterSuccess;
}
