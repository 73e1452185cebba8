import type { AgentConfig } from "../../schema/config.js";
import {
  outcomeOfProcess,
  promptViaStdin,
  runStreamingAgent,
  stalledOutcome,
} from "../agent-process.js";
import { type Reviewer, type ReviewerResult, reviewerFailedToStart } from "../reviewer.js";
import { resolveClaudeProgram } from "./program.js";
import { ClaudeStream } from "./stream.js";

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
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    ...(settings.model === undefined ? [] : ["--model", settings.model]),
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
    const program = resolveClaudeProgram(options.settings.command, {
      ...process.env,
      ...options.env,
    });
    if (program === undefined) {
      return reviewerFailedToStart(
        "claude was not found: install @anthropic-ai/claude-code, put claude on PATH, or set agent.command",
      );
    }
    const args = claudeReviewArguments(
      options.settings,
      promptViaStdin(options.prompt) ? undefined : options.prompt,
    );
    const stream = new ClaudeStream(options.cwd);
    const { ended, stall } = await runStreamingAgent(program, args, options, (line) =>
      stream.read(line),
    );
    let outcome = stall
      ? await stalledOutcome(stall, options)
      : outcomeOfProcess(ended, "claude", stream.errorMessage);
    if (outcome.status === "succeeded" && !stream.resultSeen) {
      outcome = {
        status: "failed",
        reason: "agent-error",
        message: "claude exited without reporting a result",
      };
    }
    return {
      outcome,
      output: stream.finalMessage,
      sessionId: stream.sessionId,
      usage: stream.usage,
    };
  },
};
