import type { PullRequestFacts, ReviewActivity } from "../review/github-pr.js";
import type { CheckItem } from "./check-item.js";

/** Names shown in one line before it is cut short. */
const SHOWN = 3;

/**
 * The Checks items of a workspace's pull request: its state (and whether GitHub has the branch's
 * head), the review decision, CI status checks, deployments and unresolved review threads.
 * Pure: `activity` undefined means the GraphQL call failed (`activityError` says why).
 */
export function pullRequestItems(
  pr: PullRequestFacts,
  head: string,
  activity: ReviewActivity | undefined,
  activityError: string | undefined,
): CheckItem[] {
  const items = [stateItem(pr, head)];
  if (pr.state === "MERGED") return items;
  items.push(reviewDecisionItem(pr), ciItem(pr));
  if (activity === undefined) {
    items.push({
      id: "review-threads",
      level: "warn",
      reason: `review threads and deployments unknown: ${activityError ?? "gh api failed"}`,
    });
    return items;
  }
  items.push(deploymentsItem(activity), threadsItem(activity));
  return items;
}

function stateItem(pr: PullRequestFacts, head: string): CheckItem {
  const name = `PR #${pr.number}`;
  if (pr.state === "MERGED") {
    return { id: "pr", level: "info", reason: `${name} is merged on GitHub (${pr.url})` };
  }
  if (pr.state === "CLOSED") {
    return { id: "pr", level: "block", reason: `${name} was closed without merging (${pr.url})` };
  }
  if (pr.headRefOid !== "" && pr.headRefOid !== head) {
    return {
      id: "pr",
      level: "warn",
      reason: `${name} is at ${pr.headRefOid.slice(0, 10)} on GitHub, the branch at ${head.slice(0, 10)}: push it so CI and reviewers see this head (${pr.url})`,
    };
  }
  if (pr.isDraft) return { id: "pr", level: "warn", reason: `${name} is a draft (${pr.url})` };
  switch (pr.mergeStateStatus) {
    case "DIRTY":
      return {
        id: "pr",
        level: "block",
        reason: `${name} has conflicts with ${pr.baseRefName} on GitHub (${pr.url})`,
      };
    case "BEHIND":
      return {
        id: "pr",
        level: "warn",
        reason: `${name} is open; GitHub requires it to be up to date with ${pr.baseRefName} (${pr.url})`,
      };
    default:
      return {
        id: "pr",
        level: "pass",
        reason: `${name} is open at the branch's head (${pr.url})`,
      };
  }
}

function reviewDecisionItem(pr: PullRequestFacts): CheckItem {
  switch (pr.reviewDecision) {
    case "APPROVED":
      return { id: "pr-review", level: "pass", reason: "approved on GitHub" };
    case "CHANGES_REQUESTED":
      return { id: "pr-review", level: "block", reason: "a reviewer requested changes on GitHub" };
    case "REVIEW_REQUIRED":
      return {
        id: "pr-review",
        level: "warn",
        reason: "GitHub requires a review; none approved yet",
      };
    default:
      return { id: "pr-review", level: "info", reason: "no review required on GitHub" };
  }
}

function ciItem(pr: PullRequestFacts): CheckItem {
  const { checks } = pr;
  if (checks.length === 0) return { id: "ci", level: "info", reason: "no CI checks reported" };
  const failing = checks.filter((check) => check.outcome === "fail");
  const pending = checks.filter((check) => check.outcome === "pending");
  const passed = checks.length - failing.length - pending.length;
  const summary = `${passed} of ${plural(checks.length, "CI check")} passed`;
  const waiting =
    pending.length > 0 ? `; pending: ${list(pending.map((check) => check.name))}` : "";
  if (failing.length > 0) {
    const named = failing.map((check) => (check.url ? `${check.name} (${check.url})` : check.name));
    return { id: "ci", level: "block", reason: `${summary}; failing: ${list(named)}${waiting}` };
  }
  if (pending.length > 0) {
    return {
      id: "ci",
      level: "warn",
      reason: `${summary}; pending: ${list(pending.map((check) => check.name))}`,
    };
  }
  return { id: "ci", level: "pass", reason: summary };
}

function deploymentsItem(activity: ReviewActivity): CheckItem {
  const { deployments } = activity;
  if (deployments.length === 0) {
    return { id: "deployments", level: "info", reason: "no deployments of the head commit" };
  }
  const describe = (entry: (typeof deployments)[number]) =>
    `${entry.environment} ${entry.state.toLowerCase()}${entry.url ? ` (${entry.url})` : ""}`;
  const failed = deployments.filter((entry) => ["FAILURE", "ERROR"].includes(entry.state));
  if (failed.length > 0) {
    return {
      id: "deployments",
      level: "block",
      reason: `deployment failed: ${list(failed.map(describe))}`,
    };
  }
  const waiting = deployments.filter((entry) =>
    ["PENDING", "QUEUED", "IN_PROGRESS", "WAITING"].includes(entry.state),
  );
  if (waiting.length > 0) {
    return {
      id: "deployments",
      level: "warn",
      reason: `deploying: ${list(waiting.map(describe))}`,
    };
  }
  return {
    id: "deployments",
    level: "pass",
    reason: `deployed: ${list(deployments.map(describe))}`,
  };
}

function threadsItem(activity: ReviewActivity): CheckItem {
  const { unresolved } = activity;
  if (unresolved.length === 0) {
    return { id: "review-threads", level: "pass", reason: "no unresolved review comments" };
  }
  const places = unresolved.map(
    (thread) =>
      `${thread.path}${thread.line === undefined ? "" : `:${thread.line}`} (${thread.author}${thread.outdated ? ", outdated" : ""}: ${firstLine(thread.body)})`,
  );
  return {
    id: "review-threads",
    level: "block",
    reason: `${plural(unresolved.length, "unresolved review comment")}: ${list(places)}`,
  };
}

function firstLine(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function list(items: readonly string[]): string {
  const shown = items.slice(0, SHOWN).join(", ");
  return items.length > SHOWN ? `${shown}, … (${items.length - SHOWN} more)` : shown;
}
