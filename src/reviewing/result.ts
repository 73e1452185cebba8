import { readFile } from "node:fs/promises";
import path from "node:path";
import { RunPaths } from "../executor/run-store.js";
import {
  countByPriority,
  type PriorityCounts,
  type ReviewPriority,
  type ReviewVerdict,
  readVerdict,
} from "./findings.js";
import type { ReviewRecord, ReviewStatus } from "./record.js";

export type { ReviewStatus };

/**
 * What other commands need of a workspace's review (`checks`, best-of-N selection, the web
 * page): its status, verdict and open findings by priority.
 */
export interface ReviewResult {
  status: ReviewStatus;
  verdict: ReviewVerdict;
  /** Open findings by priority (resolved ones left out). */
  byPriority: PriorityCounts;
  /** Open P0 and P1 findings: the ones that block a merge. */
  openBlocking: number;
  /** The commit that was reviewed, when known. */
  head?: string;
  /** When the review finished (ISO time), when known. */
  reviewedAt?: string;
}

/** The `review.json` a review of `workspace` leaves in its run folder. */
export function reviewFile(root: string, runId: string, workspace: string): string {
  return path.join(new RunPaths(root, runId).workspaceDir(workspace), "review.json");
}

/**
 * The review result of a workspace, undefined when it was never reviewed. A file that cannot be
 * read as JSON counts as a failed review.
 */
export async function readReviewResult(
  root: string,
  runId: string,
  workspace: string,
): Promise<ReviewResult | undefined> {
  let text: string;
  try {
    text = await readFile(reviewFile(root, runId, workspace), "utf8");
  } catch {
    return undefined;
  }
  try {
    return reviewResultOf(JSON.parse(text));
  } catch {
    return reviewResultOf(undefined);
  }
}

/**
 * Reads a parsed `review.json`: conductor's own record (`status`, `verdict`, `findings[]`) or a
 * reviewer's raw JSON (`overall_correctness`, findings with `priority` or a `[P1]` title). A
 * finding with `resolved: true` is not open; one without a priority counts as P3.
 */
export function reviewResultOf(data: unknown): ReviewResult {
  const record = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  const status: ReviewStatus =
    record.status === "failed" || record.status === "skipped"
      ? record.status
      : data === undefined || (typeof data === "object" && data === null)
        ? "failed"
        : "completed";
  const findings = Array.isArray(record.findings) ? (record.findings as unknown[]) : [];
  const open = findings
    .filter((finding) => (finding as { resolved?: unknown } | null)?.resolved !== true)
    .map((finding) => ({ priority: priorityOf(finding) }));
  const byPriority = countByPriority(open);
  return {
    status,
    verdict: readVerdict(record.verdict ?? record.overall_correctness),
    byPriority,
    openBlocking: byPriority[0] + byPriority[1],
    ...(typeof record.head === "string" ? { head: record.head } : {}),
    ...(typeof record.reviewedAt === "string" ? { reviewedAt: record.reviewedAt } : {}),
  };
}

function priorityOf(finding: unknown): ReviewPriority {
  const record = (finding ?? {}) as { priority?: unknown; title?: unknown };
  if (typeof record.priority === "number" && Number.isFinite(record.priority)) {
    return Math.min(3, Math.max(0, Math.trunc(record.priority))) as ReviewPriority;
  }
  const fromTitle = /^\s*\[P([0-3])\]/.exec(String(record.title ?? ""));
  return Number(fromTitle?.[1] ?? 3) as ReviewPriority;
}

/** The whole `review.json` of a workspace as conductor wrote it; undefined when absent or unreadable. */
export async function readReviewRecord(
  root: string,
  runId: string,
  workspace: string,
): Promise<ReviewRecord | undefined> {
  try {
    const data = JSON.parse(await readFile(reviewFile(root, runId, workspace), "utf8")) as {
      formatVersion?: unknown;
      findings?: unknown;
    };
    return data.formatVersion === 1 && Array.isArray(data.findings)
      ? (data as ReviewRecord)
      : undefined;
  } catch {
    return undefined;
  }
}
