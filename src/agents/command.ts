import { runProcess } from "../process/run.js";
import { addUsage, NO_USAGE, type TokenUsage } from "../usage/usage.js";
import { agentFailedToStart, outcomeOfProcess, stalledOutcome } from "./agent-process.js";
import { parseUsageLine } from "./command-usage.js";
import { StallWatch } from "./stall.js";
import type { Agent, AgentResult, AgentRunOptions } from "./types.js";

/**
 * A command may print hundreds of thousands of lines; each would be an event written to disk and
 * to every reporter. Its latest line is shown at most this often instead.
 */
const ACTIVITY_INTERVAL_MS = 250;

/**
 * The `command` agent: any shell command does the work. It finds the prompt in
 * `$CONDUCTOR_PROMPT` and in the file named by `$CONDUCTOR_PROMPT_FILE`. Its latest output line
 * is shown as its activity; the last non-empty line is its final message. Lines starting
 * `conductor-usage:` report tokens (see command-usage.ts) and are neither.
 */
export const commandAgent: Agent = {
  async run(options: AgentRunOptions): Promise<AgentResult> {
    const command = options.settings.command;
    if (command === undefined) {
      return agentFailedToStart("agent.kind is command but agent.command is not set");
    }
    let lastLine: string | undefined;
    // Like codex and claude, usage counts the whole session: a follow-up adds to the earlier turns.
    let usage: TokenUsage | undefined;
    let shownLine: string | undefined;
    let lastShownAt = 0;
    const show = () => {
      if (lastLine === undefined || lastLine === shownLine) return;
      shownLine = lastLine;
      lastShownAt = Date.now();
      options.onActivity({ kind: "message", text: lastLine });
    };
    const timer = setInterval(show, ACTIVITY_INTERVAL_MS);
    // A command has no provider to watch; it can still fall silent.
    const watch = new StallWatch(options.signal, {
      connectTimeoutMs: undefined,
      idleTimeoutMs: options.settings.idleTimeoutMs,
    });
    const ended = await runProcess({
      file: command,
      shell: true,
      cwd: options.cwd,
      env: options.env,
      signal: watch.signal,
      timeoutMs: options.settings.timeoutMs,
      logFile: options.logFile,
      redactor: options.redactor,
      onOutput: () => watch.output(),
      onStdoutLine: (line) => {
        if (line.trim() === "") return;
        const reported = parseUsageLine(line);
        if (reported !== undefined) {
          usage = addUsage(usage ?? options.priorUsage ?? NO_USAGE, reported);
          options.onActivity({ kind: "usage", usage });
          return;
        }
        lastLine = line.trim();
        if (Date.now() - lastShownAt >= ACTIVITY_INTERVAL_MS) show();
      },
    }).finally(() => {
      clearInterval(timer);
      watch.dispose();
    });
    show();
    return {
      outcome: watch.stall
        ? await stalledOutcome(watch.stall, options)
        : outcomeOfProcess(ended, "the agent command", undefined),
      finalMessage: lastLine,
      usage,
      sessionId: undefined,
    };
  },
};
