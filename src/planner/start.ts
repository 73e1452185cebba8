import type { TaskConfig } from "../schema/config.js";
import type { PathIssue } from "../schema/zod-issues.js";
import {
  type IssueFacts,
  type RepoFacts,
  type ResolvedStart,
  type StartPoint,
  startKey,
} from "./types.js";

/**
 * Where a task without dependencies starts: its `from:`, `branch:` or `pr:` as the repository
 * facts resolved them, else the base. A start the facts lack is a problem (the CLI resolves
 * every one before planning; missing means a caller forgot).
 */
export function taskStartPoint(
  task: TaskConfig,
  taskIndex: number,
  facts: RepoFacts,
  problems: PathIssue[],
): StartPoint {
  const base: StartPoint = { kind: "base", ref: facts.baseRef, commit: facts.baseCommit };
  const start = task.start;
  if (start === undefined) return base;
  const resolved: ResolvedStart | undefined = facts.starts?.[startKey(start)];
  if (resolved === undefined) {
    problems.push({
      keyPath: ["tasks", taskIndex, start.kind],
      at: "value",
      message: `${startKey(start)} was not resolved to a commit before planning`,
    });
    return base;
  }
  switch (start.kind) {
    case "from":
      return { kind: "ref", ref: start.ref, commit: resolved.commit };
    case "pr":
      return {
        kind: "pull-request",
        number: start.number,
        ref: resolved.ref ?? `refs/pull/${start.number}/head`,
        commit: resolved.commit,
      };
    case "branch":
      return {
        kind: "branch",
        branch: start.branch,
        commit: resolved.commit,
        upstream: resolved.upstream,
      };
  }
}

/**
 * The prompt of a task made from a GitHub issue: its title, body and comments, then the task's
 * own prompt (already rendered) as further instructions.
 */
export function issuePrompt(issue: IssueFacts, ownPrompt: string): string {
  const parts = [
    `# ${issue.title} (issue #${issue.number})`,
    "",
    issue.body.trim() || "(no description)",
  ];
  if (issue.comments.length > 0) {
    parts.push("", "## Comments");
    for (const comment of issue.comments) {
      parts.push("", `**${comment.author}:**`, "", comment.body.trim());
    }
  }
  if (ownPrompt.trim() !== "") parts.push("", "## Further instructions", "", ownPrompt.trim());
  return `${parts.join("\n")}\n`;
}
