import type { ProcessOutcome } from "../../process/outcome.js";
import type { AgentConfig } from "../../schema/config.js";
import { outcomeOfProcess, runStreamingAgent, stalledOutcome } from "../agent-process.js";
import type { Program } from "../resolve-binary.js";
import type { AgentOutcome, AgentRunOptions } from "../types.js";
import { resolveClaudeProgram } from "./program.js";
import { ClaudeStream } from "./stream.js";

/** Why a claude session or review could not start when no claude program is found. */
export const CLAUDE_NOT_FOUND =
  "claude was not found: install @anthropic-ai/claude-code, put claude on PATH, or set agent.command";

/** Finds claude as the session's environment sees it (`agent.command`, the package, PATH). */
export function findClaude(
  options: Pick<AgentRunOptions, "settings" | "env">,
): Program | undefined {
  return resolveClaudeProgram(options.settings.command, { ...process.env, ...options.env });
}

/** How every `claude -p` command line starts: events as stream-json, the model when one is set. */
export function claudePrintArguments(settings: AgentConfig): string[] {
  return [
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    ...(settings.model === undefined ? [] : ["--model", settings.model]),
  ];
}

/** How one claude invocation ended, and what its event stream reported. */
export interface ClaudeRun {
  outcome: AgentOutcome;
  stream: ClaudeStream;
}

/**
 * Runs `claude -p` with `args`, its stream-json events turned into activities, and decides the
 * outcome. Claude ends every invocation with a `result` event, so a clean exit without one is a
 * failure. `explain` gives claude's own reason for a failure (by default the stream's error).
 */
export async function runClaude(
  program: Program,
  args: readonly string[],
  options: AgentRunOptions,
  explain: (ended: ProcessOutcome, stream: ClaudeStream) => Promise<string | undefined> = async (
    _ended,
    stream,
  ) => stream.errorMessage,
): Promise<ClaudeRun> {
  const stream = new ClaudeStream(options.cwd);
  const { ended, stall } = await runStreamingAgent(program, args, options, (line) =>
    stream.read(line),
  );
  let outcome = stall
    ? await stalledOutcome(stall, options)
    : outcomeOfProcess(ended, "claude", await explain(ended, stream));
  if (outcome.status === "succeeded" && !stream.resultSeen) {
    outcome = {
      status: "failed",
      reason: "agent-error",
      message: "claude exited without reporting a result",
    };
  }
  return { outcome, stream };
}
