import type { AgentConfig } from "../../schema/config.js";
import { promptViaStdin } from "../agent-process.js";
import { type Reviewer, type ReviewerResult, reviewerFailedToStart } from "../reviewer.js";
import { CLAUDE_NOT_FOUND, claudePrintArguments, findClaude, runClaude } from "./run.js";

/**
 * Tools a claude reviewer may use: reading, and the git commands that show the changes. Edit,
 * Write and any other Bash command are not allowed, and plan mode keeps it from acting.
 */
export const REVIEW_ALLOWED_TOOLS: readonly string[] = [
  "Read",
  "Glob",
  "Grep",
  "Bash(git diff:*)",
  "Bash(git log:*)",
  "Bash(git show:*)",
  "Bash(git status:*)",
];

/**
 * The command line of a claude review: `claude -p` in plan mode (read-only), with only the tools
 * of {@link REVIEW_ALLOWED_TOOLS}; the prompt asks for the review JSON. `agent.args` are not
 * passed: they are meant for the implementing session and could allow editing tools.
 */
export function claudeReviewArguments(
  settings: AgentConfig,
  promptArgument: string | undefined,
): string[] {
  return [
    ...claudePrintArguments(settings),
    "--permission-mode",
    "plan",
    "--allowedTools",
    REVIEW_ALLOWED_TOOLS.join(","),
    ...(promptArgument === undefined ? [] : ["--", promptArgument]),
  ];
}

/** Claude Code as a reviewer: its final `result` text is the review. */
export const claudeReviewer: Reviewer = {
  async review(options): Promise<ReviewerResult> {
    const program = findClaude(options);
    if (program === undefined) return reviewerFailedToStart(CLAUDE_NOT_FOUND);
    const args = claudeReviewArguments(
      options.settings,
      promptViaStdin(options.prompt) ? undefined : options.prompt,
    );
    const { outcome, stream } = await runClaude(program, args, options);
    return {
      outcome,
      output: stream.finalMessage,
      sessionId: stream.sessionId,
      usage: stream.usage,
    };
  },
};
