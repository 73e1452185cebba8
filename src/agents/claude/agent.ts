import { open, stat } from "node:fs/promises";
import type { AgentConfig } from "../../schema/config.js";
import { addUsage } from "../../usage/usage.js";
import { agentFailedToStart, promptViaStdin } from "../agent-process.js";
import type { Agent, AgentResult, AgentRunOptions } from "../types.js";
import { CLAUDE_NOT_FOUND, claudePrintArguments, findClaude, runClaude } from "./run.js";

/**
 * Tools claude may use without asking. In `-p` mode nobody can answer a permission prompt, so any
 * other tool that needs permission (WebFetch, WebSearch…) is refused; `agent.args` can allow more.
 */
export const DEFAULT_ALLOWED_TOOLS: readonly string[] = [
  "Bash",
  "Edit",
  "Write",
  "Read",
  "Glob",
  "Grep",
];

/** With `sandbox: read-only`, claude may look but not run commands or change files. */
export const READ_ONLY_ALLOWED_TOOLS: readonly string[] = ["Read", "Glob", "Grep"];

/** How much of the end of the log to search for claude's own error text. */
const ERROR_TAIL_BYTES = 16 * 1024;

/**
 * The command line of `claude -p … --output-format stream-json --verbose` for a new session or a
 * follow-up (`--resume <session>`). `promptArgument` undefined means the prompt comes on stdin.
 * `--allowedTools` takes any number of values, so the prompt is put after `--`: otherwise it
 * would be read as one more tool name (claude then says "Input must be provided…"), and a prompt
 * starting with `-` would be read as an option.
 */
export function claudeArguments(
  settings: AgentConfig,
  promptArgument: string | undefined,
  resumeSessionId: string | undefined,
): string[] {
  const tools = settings.sandbox === "read-only" ? READ_ONLY_ALLOWED_TOOLS : DEFAULT_ALLOWED_TOOLS;
  return [
    ...claudePrintArguments(settings),
    ...(resumeSessionId === undefined ? [] : ["--resume", resumeSessionId]),
    "--allowedTools",
    tools.join(","),
    ...settings.args,
    ...(promptArgument === undefined ? [] : ["--", promptArgument]),
  ];
}

/** Claude Code as an agent: `claude -p --output-format stream-json`, its events turned into activities. */
export const claudeAgent: Agent = {
  async run(options: AgentRunOptions): Promise<AgentResult> {
    const program = findClaude(options);
    if (program === undefined) return agentFailedToStart(CLAUDE_NOT_FOUND);
    if (Object.keys(options.settings.config).length > 0) {
      options.onActivity({
        kind: "warning",
        message: "agent.config holds codex -c overrides; claude ignores them (use agent.args)",
      });
    }
    const viaStdin = promptViaStdin(options.prompt);
    const args = claudeArguments(
      options.settings,
      viaStdin ? undefined : options.prompt,
      options.resumeSessionId,
    );
    const logStart = await sizeOf(options.logFile);
    const { outcome, stream } = await runClaude(program, args, options, async (ended, claude) =>
      // Without a `result`, claude's reason is only on stderr (bad arguments, a missing native binary).
      claude.resultSeen || ended.reason !== "exit-non-zero"
        ? claude.errorMessage
        : (claude.lastErrorText ?? (await errorTail(options.logFile, logStart))),
    );
    return {
      outcome,
      finalMessage: stream.finalMessage,
      // claude reports the tokens of this call only; codex, of the whole thread.
      usage:
        options.priorUsage && stream.usage
          ? addUsage(options.priorUsage, stream.usage)
          : (stream.usage ?? options.priorUsage),
      sessionId: stream.sessionId ?? options.resumeSessionId,
    };
  },
};

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** The last lines this run wrote to the log that are not JSON events: claude's stderr, redacted. */
async function errorTail(logFile: string, start: number): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(logFile, "r");
    const size = (await handle.stat()).size;
    const from = Math.max(start, size - ERROR_TAIL_BYTES);
    const buffer = Buffer.alloc(size - from);
    await handle.read(buffer, 0, buffer.length, from);
    const lines = buffer
      .toString("utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("{"));
    return lines.length === 0 ? undefined : lines.slice(-3).join(" ");
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}
