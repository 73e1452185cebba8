import type { AgentConfig } from "../../schema/config.js";
import {
  agentFailedToStart,
  outcomeOfProcess,
  promptViaStdin,
  runStreamingAgent,
  stalledOutcome,
} from "../agent-process.js";
import type { Agent, AgentResult, AgentRunOptions } from "../types.js";
import {
  CODEX_NOT_FOUND,
  codexConfigArgs,
  codexModelArgs,
  resolveCodexProgram,
} from "./program.js";
import { CodexStream } from "./stream.js";

/**
 * The command line of `codex exec --json` for a new turn or a follow-up. Follow-ups
 * (`exec resume <thread>`) have no `-s` flag, so the sandbox is passed as config; without it codex
 * would fall back to read-only, and without `-m` to its default model.
 */
export function codexArguments(
  settings: AgentConfig,
  cwd: string,
  promptArgument: string,
  resumeThreadId: string | undefined,
): string[] {
  const model = codexModelArgs(settings);
  const overrides = codexConfigArgs(settings);
  if (resumeThreadId !== undefined) {
    return [
      "exec",
      "--json",
      "--cd",
      cwd,
      "resume",
      ...model,
      "-c",
      `sandbox_mode="${settings.sandbox}"`,
      ...overrides,
      ...settings.args,
      "--", // a prompt that starts with "-" (a YAML list) is not an option
      resumeThreadId,
      promptArgument,
    ];
  }
  return [
    "exec",
    "--json",
    "--cd",
    cwd,
    "-s",
    settings.sandbox,
    ...model,
    ...overrides,
    ...settings.args,
    "--",
    promptArgument,
  ];
}

/** The Codex CLI as an agent: `codex exec --json`, its event stream turned into activities. */
export const codexAgent: Agent = {
  async run(options: AgentRunOptions): Promise<AgentResult> {
    const program = resolveCodexProgram(options.settings.command);
    if (program === undefined) return agentFailedToStart(CODEX_NOT_FOUND);
    const viaStdin = promptViaStdin(options.prompt);
    const args = codexArguments(
      options.settings,
      options.cwd,
      viaStdin ? "-" : options.prompt,
      options.resumeSessionId,
    );
    const stream = new CodexStream();
    const { ended, stall } = await runStreamingAgent(program, args, options, (line) =>
      stream.read(line),
    );
    if (stall) {
      return {
        outcome: await stalledOutcome(stall, options),
        finalMessage: stream.finalMessage,
        usage: stream.usage,
        sessionId: stream.threadId ?? options.resumeSessionId,
      };
    }
    const outcome = outcomeOfProcess(ended, "codex", stream.errorMessage);
    const incomplete = outcome.status === "succeeded" && !stream.turnCompleted;
    return {
      outcome: incomplete
        ? {
            status: "failed",
            reason: "agent-error",
            message: "codex exited without completing its turn",
          }
        : outcome,
      finalMessage: stream.finalMessage,
      usage: stream.usage,
      sessionId: stream.threadId ?? options.resumeSessionId,
    };
  },
};
