import { readFile } from "node:fs/promises";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { git } from "../git/worktree.js";
import { type ParsedReview, reviewFromJson } from "../reviewing/findings.js";
import { reviewFile } from "../reviewing/result.js";
import type { PullRequestFacts } from "./pull-request.js";

/** Lines of `git diff --stat` kept in a body (the summary line is always kept). */
const STAT_LINES = 30;

/**
 * Gathers what a pull request body tells about a workspace: the diff stat of its branch against
 * its start point, its review (`review.json`, open findings only) and the issue it came from.
 */
export async function gatherPullRequestFacts(
  found: FoundWorkspace,
  finalMessage: string | undefined,
): Promise<PullRequestFacts> {
  const { workspace, state, run } = found;
  const root = run.plan.repo.root;
  const start = state.startCommit ?? run.plan.base.commit;
  const stat = (
    await git(root, ["diff", "--stat=100", `${start}`, `refs/heads/${workspace.branch}`, "--"])
  )
    .split("\n")
    .filter((line) => line.trim() !== "");
  const diffStat =
    stat.length > STAT_LINES + 1
      ? [
          ...stat.slice(0, STAT_LINES),
          ` … ${stat.length - 1 - STAT_LINES} more files`,
          stat.at(-1) as string,
        ]
      : stat;
  return {
    finalMessage,
    diffStat,
    review: await readReview(root, run.runId, workspace.name, workspace.path),
    issue: issueNumber(workspace),
  };
}

/** The review of a workspace with its resolved findings left out; undefined when none. */
async function readReview(
  root: string,
  runId: string,
  name: string,
  worktree: string,
): Promise<ParsedReview | undefined> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(reviewFile(root, runId, name), "utf8"));
  } catch {
    return undefined;
  }
  const record = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  if (record.status === "failed" || record.status === "skipped") return undefined;
  const findings = Array.isArray(record.findings)
    ? record.findings.filter(
        (finding) => (finding as { resolved?: unknown } | null)?.resolved !== true,
      )
    : record.findings;
  return reviewFromJson({ ...record, findings }, { worktree });
}

/**
 * The issue number of a task that came from a GitHub issue (`issue: 12` in the config, kept on
 * the workspace as a number or as `{ number }`); undefined otherwise.
 */
export function issueNumber(workspace: object): number | undefined {
  const issue = (workspace as { issue?: unknown }).issue;
  const value =
    typeof issue === "object" && issue !== null ? (issue as { number?: unknown }).number : issue;
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}
