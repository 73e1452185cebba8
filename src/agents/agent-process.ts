/** Running an agent program and turning how it ended into an agent outcome. */
import { describeOutcome, type ProcessOutcome } from "../process/outcome.js";
import { runProcess } from "../process/run.js";
import { providerUrl } from "./provider.js";
import type { Program } from "./resolve-binary.js";
import { type Stall, StallWatch } from "./stall.js";
import type { AgentActivity, AgentOutcome, AgentResult, AgentRunOptions } from "./types.js";

/**
 * The agent outcome for how its process ended. `errorMessage` is the agent's own explanation
 * (from its event stream), preferred over a bare exit code so users see why without opening logs.
 */
export function outcomeOfProcess(
  ended: ProcessOutcome,
  program: string,
  errorMessage: string | undefined,
): AgentOutcome {
  switch (ended.reason) {
    case "exited":
      return errorMessage === undefined
        ? { status: "succeeded" }
        : { status: "failed", reason: "agent-error", message: errorMessage };
    case "exit-non-zero":
      return {
        status: "failed",
        reason: errorMessage === undefined ? "exit-non-zero" : "agent-error",
        message: errorMessage ?? `${program} ${describeOutcome(ended)}`,
        exitCode: ended.exitCode,
      };
    case "signal":
      return {
        status: "failed",
        reason: "signal",
        signal: ended.signal,
        message: `${program} ${describeOutcome(ended)}`,
      };
    case "spawn-error":
      return {
        status: "failed",
        reason: "spawn-error",
        message: `${program} ${describeOutcome(ended)}`,
      };
    case "timeout":
      return { status: "timed-out", timeoutMs: ended.timeoutMs };
    case "cancelled":
      return { status: "cancelled" };
  }
}

/** Prompts longer than this go through stdin: Linux refuses a single argument over 128 KiB. */
const MAX_PROMPT_ARGUMENT_BYTES = 100 * 1024;

/** The result of an agent that could not even be started. */
export function agentFailedToStart(message: string): AgentResult {
  return {
    outcome: { status: "failed", reason: "spawn-error", message },
    finalMessage: undefined,
    usage: undefined,
    sessionId: undefined,
  };
}

/** Whether a prompt is too long for the command line and goes through stdin instead. */
export function promptViaStdin(prompt: string): boolean {
  return Buffer.byteLength(prompt) > MAX_PROMPT_ARGUMENT_BYTES;
}

/** How an agent program ended, and the stall that ended it early, if one did. */
export interface StreamingAgentEnd {
  ended: ProcessOutcome;
  stall: Stall | undefined;
}

/**
 * Runs an agent program whose stdout is an event stream: each line is read into activities, and
 * the prompt goes through stdin when it is too long for an argument. A program that cannot reach
 * its provider for `connectTimeoutMs`, or prints nothing for `idleTimeoutMs`, is ended early.
 */
export async function runStreamingAgent(
  program: Program,
  args: readonly string[],
  options: AgentRunOptions,
  read: (line: string) => AgentActivity[],
): Promise<StreamingAgentEnd> {
  const watch = new StallWatch(options.signal, {
    connectTimeoutMs: options.settings.connectTimeoutMs,
    idleTimeoutMs: options.settings.idleTimeoutMs,
  });
  try {
    const ended = await runProcess({
      file: program.file,
      args: [...program.args, ...args],
      cwd: options.cwd,
      env: options.env,
      signal: watch.signal,
      timeoutMs: options.settings.timeoutMs,
      logFile: options.logFile,
      redactor: options.redactor,
      ...(promptViaStdin(options.prompt) ? { stdinText: options.prompt } : {}),
      onOutput: () => watch.output(),
      onStdoutLine: (line) => {
        for (const activity of read(line)) {
          watch.activity(activity);
          options.onActivity(activity);
        }
      },
    });
    return { ended, stall: watch.stall };
  } finally {
    watch.dispose();
  }
}

/** The outcome of an agent ended by a stall, naming the provider's URL when it was unreachable. */
export async function stalledOutcome(
  stall: Stall,
  options: AgentRunOptions,
): Promise<AgentOutcome> {
  if (stall.kind === "idle") return { status: "idle", idleMs: stall.idleMs };
  return {
    status: "unreachable",
    url: await providerUrl(options.settings, { ...process.env, ...options.env }),
    timeoutMs: stall.timeoutMs,
    lastError: stall.lastError,
  };
}
