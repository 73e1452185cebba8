import path from "node:path";
import type { TokenUsage } from "../../usage/usage.js";
import { addUsage } from "../../usage/usage.js";
import type { AgentActivity } from "../types.js";

/** Claude's tools that change files, and the input field naming the file. */
const FILE_TOOLS: Readonly<Record<string, string>> = {
  Edit: "file_path",
  MultiEdit: "file_path",
  Write: "file_path",
  NotebookEdit: "notebook_path",
};

/**
 * Event types claude may print that carry nothing for us (partial messages with
 * --include-partial-messages, progress and bookkeeping of the SDK protocol). They stay in the log
 * and are skipped without a warning, so a flag in `agent.args` cannot flood the live view.
 */
const QUIET_TYPES = new Set([
  "stream_event",
  "keep_alive",
  "tool_progress",
  "tool_use_summary",
  "rate_limit_event",
  "prompt_suggestion",
  "auth_status",
  "control_request",
  "control_response",
  "control_cancel_request",
]);

/** A tool call seen in an assistant message, kept until its result arrives. */
interface ToolUse {
  name: string;
  input: Record<string, unknown>;
}

/**
 * Reads the JSONL stream of `claude -p --output-format stream-json --verbose` (shapes observed with
 * claude 2.1.196 are listed in src/model-server/anthropic.ts) into activities and the facts of the
 * run. Bash calls become `command` activities (started, then completed with the exit code), Edit
 * and Write calls that succeeded become `file-change`, assistant text becomes `message`. Unknown
 * event types and malformed lines become warnings; nothing in the stream can crash it.
 */
export class ClaudeStream {
  sessionId: string | undefined;
  /** Usage of this invocation: live from assistant messages, then the `result` event's total. */
  usage: TokenUsage | undefined;
  /** Claude's final answer: the `result` text of a successful run, else its last words so far. */
  finalMessage: string | undefined;
  /** Claude's own explanation of a failed run (e.g. `Invalid API key · Fix external API key (HTTP 401)`). */
  errorMessage: string | undefined;
  /** Whether the final `result` event arrived. */
  resultSeen = false;
  /** Whether that `result` reported an error. */
  resultIsError = false;

  private cwd: string | undefined;
  private readonly toolUses = new Map<string, ToolUse>();
  private readonly messageUsage = new Map<string, TokenUsage>();
  /** Error text of claude's stand-in ("<synthetic>") message, in case no `result` follows. */
  private syntheticText: string | undefined;

  /** `cwd`: the working directory, to show changed files relative to it (the `init` event's wins). */
  constructor(cwd?: string) {
    this.cwd = cwd;
  }

  /** Reads one line and returns the activities it carries. */
  read(line: string): AgentActivity[] {
    const trimmed = line.trim();
    if (trimmed === "") return [];
    let event: unknown;
    try {
      event = JSON.parse(trimmed);
    } catch {
      return [
        { kind: "warning", message: `claude printed a line that is not JSON: ${clip(trimmed)}` },
      ];
    }
    if (!isRecord(event) || typeof event.type !== "string") {
      return [
        { kind: "warning", message: `claude printed an event without a type: ${clip(trimmed)}` },
      ];
    }
    return this.readEvent(event as ClaudeEvent);
  }

  /** The error to report when claude stopped without a `result` (its stand-in message, if any). */
  get lastErrorText(): string | undefined {
    return this.errorMessage ?? this.syntheticText;
  }

  private readEvent(event: ClaudeEvent): AgentActivity[] {
    switch (event.type) {
      case "system":
        return this.readSystem(event);
      case "assistant":
        return this.readAssistant(event);
      case "user":
        return this.readUser(event);
      case "result":
        return this.readResult(event);
      default:
        if (QUIET_TYPES.has(event.type)) return [];
        return [
          { kind: "warning", message: `unknown claude event "${event.type}" (kept in the log)` },
        ];
    }
  }

  private readSystem(event: ClaudeEvent): AgentActivity[] {
    switch (event.subtype) {
      case "init": {
        const cwd = text(event.cwd);
        if (cwd !== undefined) this.cwd = cwd;
        const sessionId = text(event.session_id);
        if (sessionId === undefined) return [];
        this.sessionId = sessionId;
        return [{ kind: "session", sessionId }];
      }
      case "api_retry": {
        const status = typeof event.error_status === "number" ? ` ${event.error_status}` : "";
        const reason = text(event.error) === undefined ? "" : ` (${event.error})`;
        const attempt = typeof event.attempt === "number" ? event.attempt : "?";
        const max = typeof event.max_retries === "number" ? event.max_retries : "?";
        const message = `claude API request failed${status}${reason}; retry ${attempt} of ${max}`;
        // No HTTP status: the request never got an answer (connection refused, DNS, TLS, reset).
        return [{ kind: status === "" ? "connection-error" : "warning", message }];
      }
      default:
        // Status, hooks, compaction, subagent tasks…: bookkeeping, kept in the log only.
        return [];
    }
  }

  private readAssistant(event: ClaudeEvent): AgentActivity[] {
    const message = event.message;
    if (!isRecord(message)) return [];
    const blocks = Array.isArray(message.content) ? message.content.filter(isRecord) : [];
    if (message.model === "<synthetic>") {
      // Claude's stand-in for a reply it could not get (API error, timeout); the `result` event
      // that follows carries the same text as the run's error.
      this.syntheticText =
        blocks.map((block) => text(block.text) ?? "").join("") || this.syntheticText;
      return [];
    }
    // Messages of subagents (Task tool) have a parent; their commands count, their words do not.
    const mainThread = event.parent_tool_use_id === null || event.parent_tool_use_id === undefined;
    const activities: AgentActivity[] = [];
    for (const block of blocks) {
      if (block.type === "text" && mainThread && text(block.text) !== undefined) {
        // The last words so far; the `result` text replaces them once the run succeeds.
        this.finalMessage = block.text as string;
        activities.push({ kind: "message", text: this.finalMessage });
      } else if (block.type === "thinking" && mainThread && text(block.thinking) !== undefined) {
        activities.push({ kind: "reasoning", text: block.thinking as string });
      } else if (
        block.type === "tool_use" &&
        typeof block.id === "string" &&
        typeof block.name === "string"
      ) {
        const use: ToolUse = { name: block.name, input: isRecord(block.input) ? block.input : {} };
        this.toolUses.set(block.id, use);
        if (use.name === "Bash")
          activities.push({ kind: "command", command: bashCommand(use), exitCode: undefined });
      }
    }
    const usage = this.addMessageUsage(text(message.id), message.usage);
    if (usage) activities.push({ kind: "usage", usage });
    return activities;
  }

  /**
   * Live usage: the sum over this invocation's model replies. Each content block arrives as its own
   * event repeating its message's usage, so usage is counted once per message id.
   */
  private addMessageUsage(id: string | undefined, raw: unknown): TokenUsage | undefined {
    const usage = toUsage(raw);
    if (id === undefined || usage === undefined || this.messageUsage.has(id) || this.resultSeen)
      return undefined;
    this.messageUsage.set(id, usage);
    this.usage = [...this.messageUsage.values()].reduce(addUsage);
    return this.usage;
  }

  private readUser(event: ClaudeEvent): AgentActivity[] {
    const message = event.message;
    if (!isRecord(message) || !Array.isArray(message.content)) return [];
    const activities: AgentActivity[] = [];
    for (const block of message.content.filter(isRecord)) {
      if (block.type !== "tool_result" || typeof block.tool_use_id !== "string") continue;
      const use = this.toolUses.get(block.tool_use_id);
      if (use === undefined) continue;
      this.toolUses.delete(block.tool_use_id);
      activities.push(...this.toolResult(use, block.is_error === true, contentText(block.content)));
    }
    return activities;
  }

  private toolResult(use: ToolUse, isError: boolean, output: string): AgentActivity[] {
    if (use.name === "Bash") {
      const command = bashCommand(use);
      if (!isError) return [{ kind: "command", command, exitCode: 0 }];
      const exit = /^Exit code (\d+)/.exec(output);
      if (exit) return [{ kind: "command", command, exitCode: Number(exit[1]) }];
      // Refused, blocked or interrupted before it ran: there is no exit code to report.
      return [
        { kind: "warning", message: `claude could not run \`${clip(command)}\`: ${clip(output)}` },
      ];
    }
    const field = FILE_TOOLS[use.name];
    if (field === undefined || isError) return [];
    const file = text(use.input[field]);
    return file === undefined ? [] : [{ kind: "file-change", paths: [this.display(file)] }];
  }

  private readResult(event: ClaudeEvent): AgentActivity[] {
    this.resultSeen = true;
    this.resultIsError = event.is_error === true;
    this.sessionId ??= text(event.session_id);
    const activities: AgentActivity[] = [];
    const usage = toUsage(event.usage);
    if (usage) {
      this.usage = usage;
      activities.push({ kind: "usage", usage });
    }
    const denied = deniedTools(event.permission_denials);
    if (denied.length > 0) {
      activities.push({
        kind: "warning",
        message: `claude was denied permission to use ${denied.join(", ")}; allow tools with agent.args: [--allowedTools, "…"]`,
      });
    }
    if (this.resultIsError) {
      this.errorMessage = resultError(event, this.syntheticText);
      activities.push({ kind: "error", message: this.errorMessage });
    } else {
      this.finalMessage = text(event.result) ?? this.finalMessage;
    }
    return activities;
  }

  /** A changed file as the user knows it: relative to the worktree when inside it. */
  private display(file: string): string {
    if (this.cwd === undefined || !path.isAbsolute(file)) return file;
    const relative = path.relative(this.cwd, file);
    const outside = relative === ".." || relative.startsWith(`..${path.sep}`);
    return relative === "" || outside || path.isAbsolute(relative) ? file : relative;
  }
}

/** One line of claude's stream; fields are checked where they are read. */
type ClaudeEvent = Record<string, unknown> & { type: string };

/**
 * The message of a failed `result`: its text (API errors), else its `errors` (failures before the
 * first request, e.g. an unknown --resume id), else its subtype (`error_max_turns`…). The HTTP
 * status is added when claude's text does not mention it ("Invalid API key" for a 401).
 */
function resultError(event: ClaudeEvent, synthetic: string | undefined): string {
  const errors = Array.isArray(event.errors)
    ? event.errors.filter((error) => typeof error === "string")
    : [];
  const message =
    text(event.result) ??
    (errors.length > 0 ? errors.join("; ") : undefined) ??
    synthetic ??
    `claude stopped with ${text(event.subtype) ?? "an error"}`;
  const status = event.api_error_status;
  return typeof status === "number" && !message.includes(String(status))
    ? `${message} (HTTP ${status})`
    : message;
}

function deniedTools(denials: unknown): string[] {
  if (!Array.isArray(denials)) return [];
  const names = denials.filter(isRecord).map((denial) => text(denial.tool_name) ?? "a tool");
  return [...new Set(names)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function bashCommand(use: ToolUse): string {
  return text(use.input.command) ?? "";
}

/** Tool result content: a string, or text blocks. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter(isRecord)
    .map((part) => text(part.text) ?? "")
    .join("");
}

/**
 * Anthropic usage in conductor's terms. Anthropic counts cache reads and cache writes apart from
 * `input_tokens`; conductor (like codex) counts cached input as part of input, so they are added.
 * Thinking tokens are part of `output_tokens` and not reported apart.
 */
export function toUsage(raw: unknown): TokenUsage | undefined {
  if (!isRecord(raw)) return undefined;
  const cacheRead = count(raw.cache_read_input_tokens);
  return {
    inputTokens: count(raw.input_tokens) + cacheRead + count(raw.cache_creation_input_tokens),
    cachedInputTokens: cacheRead,
    outputTokens: count(raw.output_tokens),
    reasoningTokens: 0,
  };
}

function clip(line: string): string {
  const single = line.replace(/\s+/g, " ");
  return single.length > 120 ? `${single.slice(0, 117)}...` : single;
}
