import type { AgentConfig, AgentKind } from "../schema/config.js";
import type { Redactor } from "../secrets/redact.js";
import type { TokenUsage } from "../usage/usage.js";
import type { AgentActivity, AgentOutcome } from "./types.js";

/**
 * A second agent session that reviews a workspace's changes without editing them: the same
 * agent kinds as the implementing one, behind one small interface. Reviewers only run
 * programs; checking that they changed nothing is the caller's job.
 */

/** What a reviewer is given. */
export interface ReviewRunOptions {
  /** The worktree to review. */
  cwd: string;
  settings: AgentConfig;
  /** Complete environment for the reviewer process. */
  env: Record<string, string>;
  signal: AbortSignal;
  /** Receives the reviewer's raw output. */
  logFile: string;
  redactor: Redactor;
  /** The commit the changes are reviewed against (the workspace's start point). */
  base: string;
  /** The repository's review guidance, when it has some. */
  instructions: string | undefined;
  /** The whole review request, for reviewers that take a prompt (claude, command). */
  prompt: string;
  onActivity(activity: AgentActivity): void;
}

/** What a reviewer answered. */
export interface ReviewerResult {
  outcome: AgentOutcome;
  /** The reviewer's final answer as it printed it (JSON, or text). */
  output: string | undefined;
  /** The review object the reviewer program parsed itself (codex's `review_output`), if any. */
  structured?: unknown;
  sessionId: string | undefined;
  usage: TokenUsage | undefined;
}

/** One reviewing agent. */
export interface Reviewer {
  review(options: ReviewRunOptions): Promise<ReviewerResult>;
}

/** A reviewer result for a program that could not be started. */
export function reviewerFailedToStart(message: string): ReviewerResult {
  return {
    outcome: { status: "failed", reason: "spawn-error", message },
    output: undefined,
    sessionId: undefined,
    usage: undefined,
  };
}

export type { AgentKind };
