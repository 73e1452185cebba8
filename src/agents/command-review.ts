import { runProcess } from "../process/run.js";
import { outcomeOfProcess } from "./agent-process.js";
import { type Reviewer, type ReviewerResult, reviewerFailedToStart } from "./reviewer.js";

/** More output than any review: the rest is in the log only. */
const MAX_REVIEW_OUTPUT_CHARS = 1024 * 1024;

/**
 * The `command` agent's reviewer: `agent.review_command`, run by the shell in the worktree with
 * the workspace's environment plus `CONDUCTOR_REVIEW_BASE` (the commit to review against),
 * `CONDUCTOR_REVIEW_PROMPT` / `CONDUCTOR_REVIEW_PROMPT_FILE` (the review request) and
 * `CONDUCTOR_REVIEW_INSTRUCTIONS` (the repository's guidance, if any); stdin is closed. What it
 * prints on stdout is the review: codex's review JSON. It must exit 0.
 */
export const commandReviewer: Reviewer = {
  async review(options): Promise<ReviewerResult> {
    const command = options.settings.reviewCommand;
    if (command === undefined) {
      return reviewerFailedToStart(
        "agent.kind is command but agent.review_command is not set: set it to a command that prints the review JSON",
      );
    }
    let output = "";
    const ended = await runProcess({
      file: command,
      shell: true,
      cwd: options.cwd,
      env: options.env,
      signal: options.signal,
      timeoutMs: options.settings.timeoutMs,
      logFile: options.logFile,
      redactor: options.redactor,
      onStdoutLine: (line) => {
        if (output.length < MAX_REVIEW_OUTPUT_CHARS) output += `${line}\n`;
      },
    });
    return {
      outcome: outcomeOfProcess(ended, "the review command", undefined),
      output,
      sessionId: undefined,
      usage: undefined,
    };
  },
};
