import type { TokenUsage } from "../../usage/usage.js";
import type { AgentActivity } from "../types.js";

/**
 * Reads the JSONL stream of `codex exec --json` (one event per line; shapes observed with codex
 * 0.169 are listed in src/model-server/server.ts) into activities and the facts of the run.
 * Unknown event types and malformed lines become warnings; nothing in the stream can crash it.
 */
export class CodexStream {
  threadId: string | undefined;
  /** Usage of the whole thread so far (codex reports it summed over the thread's turns). */
  usage: TokenUsage | undefined;
  /** The last agent message: codex's final answer once the turn completes. */
  finalMessage: string | undefined;
  /** Codex's own explanation of a failed turn (e.g. `unexpected status 401 Unauthorized: …`). */
  errorMessage: string | undefined;
  turnCompleted = false;

  /** Reads one line and returns the activities it carries. */
  read(line: string): AgentActivity[] {
    const trimmed = line.trim();
    if (trimmed === "") return [];
    let event: CodexEvent;
    try {
      event = JSON.parse(trimmed) as CodexEvent;
    } catch {
      return [
        { kind: "warning", message: `codex printed a line that is not JSON: ${clip(trimmed)}` },
      ];
    }
    if (event === null || typeof event !== "object" || typeof event.type !== "string") {
      return [
        { kind: "warning", message: `codex printed an event without a type: ${clip(trimmed)}` },
      ];
    }
    return this.readEvent(event);
  }

  private readEvent(event: CodexEvent): AgentActivity[] {
    switch (event.type) {
      case "thread.started":
        if (typeof event.thread_id !== "string") return [];
        this.threadId = event.thread_id;
        return [{ kind: "session", sessionId: event.thread_id }];
      case "turn.started":
        return [];
      case "turn.completed":
        this.turnCompleted = true;
        this.usage = toUsage(event.usage);
        return this.usage ? [{ kind: "usage", usage: this.usage }] : [];
      case "turn.failed":
        this.errorMessage = text(event.error?.message) ?? this.errorMessage ?? "the turn failed";
        return [{ kind: "error", message: this.errorMessage }];
      case "error": {
        const message = text(event.message);
        // "Reconnecting... waiting for network (…)", "Reconnecting... 2/5 (stream disconnected…)":
        // codex is retrying its provider; that is not the turn's error (it may still complete).
        // Only a provider that gives no answer is a connection error: retries of an answer
        // (a 5xx, "high demand") end by themselves after codex's own retry limits.
        if (message?.startsWith("Reconnecting...")) {
          const kind = NO_ANSWER.test(message) ? "connection-error" : "warning";
          return [{ kind, message }];
        }
        this.errorMessage = message ?? this.errorMessage;
        return this.errorMessage ? [{ kind: "error", message: this.errorMessage }] : [];
      }
      case "item.started":
      case "item.updated":
      case "item.completed":
        return this.readItem(event.item, event.type === "item.completed");
      default:
        return [
          { kind: "warning", message: `unknown codex event "${event.type}" (kept in the log)` },
        ];
    }
  }

  private readItem(item: CodexItem | undefined, completed: boolean): AgentActivity[] {
    if (!item || typeof item.type !== "string") return [];
    switch (item.type) {
      case "command_execution": {
        const command = displayCommand(text(item.command) ?? "");
        const exitCode =
          completed && typeof item.exit_code === "number" ? item.exit_code : undefined;
        return [{ kind: "command", command, exitCode }];
      }
      case "file_change": {
        if (!completed) return [];
        const paths = (Array.isArray(item.changes) ? item.changes : [])
          .map((change) => text(change?.path))
          .filter((path): path is string => path !== undefined);
        return [{ kind: "file-change", paths }];
      }
      case "agent_message":
        if (!completed || text(item.text) === undefined) return [];
        this.finalMessage = item.text as string;
        return [{ kind: "message", text: this.finalMessage }];
      case "reasoning":
        return completed && text(item.text)
          ? [{ kind: "reasoning", text: item.text as string }]
          : [];
      case "error":
        // Codex reports some problems as items without failing the turn ("Model metadata … not found").
        return completed && text(item.message)
          ? [{ kind: "warning", message: item.message as string }]
          : [];
      default:
        return [];
    }
  }
}

/** Codex's words for a request that got no answer (checked with 0.169 against a closed port). */
const NO_ANSWER =
  /waiting for network|error sending request|stream disconnected|connection (failed|refused|reset|closed)|timed out|dns|tls|certificate/i;

interface CodexItem {
  type?: unknown;
  command?: unknown;
  exit_code?: unknown;
  text?: unknown;
  message?: unknown;
  changes?: { path?: unknown }[];
}

interface CodexEvent {
  type: string;
  thread_id?: unknown;
  usage?: Record<string, unknown>;
  error?: { message?: unknown };
  message?: unknown;
  item?: CodexItem;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function toUsage(usage: Record<string, unknown> | undefined): TokenUsage | undefined {
  if (!usage || typeof usage !== "object") return undefined;
  return {
    inputTokens: count(usage.input_tokens),
    cachedInputTokens: count(usage.cached_input_tokens),
    outputTokens: count(usage.output_tokens),
    reasoningTokens: count(usage.reasoning_output_tokens),
  };
}

/** `/bin/bash -lc 'npm test'` → `npm test`: the command as the agent meant it. */
export function displayCommand(command: string): string {
  const wrapped = /^\/bin\/(?:ba|z)?sh -l?c (.+)$/s.exec(command);
  if (!wrapped) return command;
  return unquoteShellWord(wrapped[1] as string) ?? command;
}

/**
 * The value of one POSIX shell word made of '…' and "…" parts and backslash escapes, or
 * undefined when the text is more than one word.
 */
function unquoteShellWord(word: string): string | undefined {
  let value = "";
  let index = 0;
  while (index < word.length) {
    const char = word[index] as string;
    if (char === "'") {
      const end = word.indexOf("'", index + 1);
      if (end === -1) return undefined;
      value += word.slice(index + 1, end);
      index = end + 1;
    } else if (char === '"') {
      index++;
      while (index < word.length && word[index] !== '"') {
        if (word[index] === "\\" && /["\\$`]/.test(word[index + 1] ?? "")) index++;
        value += word[index];
        index++;
      }
      if (index >= word.length) return undefined;
      index++;
    } else if (char === "\\") {
      value += word[index + 1] ?? "";
      index += 2;
    } else if (/\s/.test(char)) {
      return undefined;
    } else {
      value += char;
      index++;
    }
  }
  return value;
}

function clip(line: string): string {
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}
