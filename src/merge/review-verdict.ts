import { readFile } from "node:fs/promises";
import path from "node:path";
import { RunPaths } from "../executor/run-store.js";

/**
 * What `checks` reads of a workspace's `review.json` (written by `conductor review` into the
 * workspace's run folder): the verdict and the priorities of its findings. Other fields are
 * ignored, so the review's own format can grow.
 */
export interface ReviewVerdict {
  correct: boolean | undefined;
  /** Open findings by priority (0 = P0 … 3 = P3). */
  byPriority: [number, number, number, number];
}

/** The file a review of `workspace` leaves in its run folder. */
export function reviewFile(root: string, runId: string, workspace: string): string {
  return path.join(new RunPaths(root, runId).workspaceDir(workspace), "review.json");
}

/**
 * The review verdict of a workspace, undefined when it was not reviewed. Accepts
 * `verdict: "correct" | "incorrect"` or codex's `overall_correctness: "patch is correct" |
 * "patch is incorrect"`, and findings with a numeric `priority` (or a `[P1]` title); a finding
 * with `resolved: true` does not count.
 */
export async function readReviewVerdict(
  root: string,
  runId: string,
  workspace: string,
): Promise<ReviewVerdict | undefined> {
  let text: string;
  try {
    text = await readFile(reviewFile(root, runId, workspace), "utf8");
  } catch {
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { correct: false, byPriority: [0, 0, 0, 0] };
  }
  const record = (data ?? {}) as Record<string, unknown>;
  const verdict = String(record.verdict ?? record.overall_correctness ?? "").toLowerCase();
  const correct = verdict.includes("incorrect")
    ? false
    : verdict.includes("correct")
      ? true
      : undefined;
  const byPriority: [number, number, number, number] = [0, 0, 0, 0];
  const findings = Array.isArray(record.findings) ? record.findings : [];
  for (const finding of findings as Record<string, unknown>[]) {
    if (finding?.resolved === true) continue;
    const fromTitle = /^\[P([0-3])\]/.exec(String(finding?.title ?? ""));
    const priority =
      typeof finding?.priority === "number" ? finding.priority : Number(fromTitle?.[1] ?? 3);
    const index = Math.min(3, Math.max(0, Math.trunc(priority))) as 0 | 1 | 2 | 3;
    byPriority[index]++;
  }
  return { correct, byPriority };
}
