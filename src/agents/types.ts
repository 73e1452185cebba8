import type { AgentConfig } from "../schema/config.js";
import type { Redactor } from "../secrets/redact.js";
import type { TokenUsage } from "../usage/usage.js";

/** Something the agent is doing, as shown live and recorded in events. */
export type AgentActivity =
  /** The agent's session (codex thread / claude session) is known; follow-ups resume it. */
  | { kind: "session"; sessionId: string }
  /** A shell command started, or completed with its exit code. */
  | { kind: "command"; command: string; exitCode: number | undefined }
  /** The agent changed files. */
  | { kind: "file-change"; paths: string[] }
  /** A message from the agent (the last one is its final message). */
  | { kind: "message"; text: string }
  /** A reasoning summary. */
  | { kind: "reasoning"; text: string }
  /** Token usage so far. */
  | { kind: "usage"; usage: TokenUsage }
  /** Something odd that did not stop the agent (unknown event, malformed line, model warning). */
  | { kind: "warning"; message: string }
  /** An error the agent reported. */
  | { kind: "error"; message: string }
  /** The agent could not reach its model provider and is retrying (network down, stream broken). */
  | { kind: "connection-error"; message: string };

/** How one agent run ended. */
export type AgentOutcome =
  /** The agent finished its turn. */
  | { status: "succeeded" }
  /** The agent reported an error or exited non-zero; `message` is its own explanation. */
  | {
      status: "failed";
      reason: "agent-error" | "exit-non-zero" | "signal" | "spawn-error";
      message: string;
      exitCode?: number;
      signal?: string;
    }
  /** Killed after its timeout. */
  | { status: "timed-out"; timeoutMs: number }
  /** Ended after failing to reach its model provider for `agent.connect_timeout`. */
  | {
      status: "unreachable";
      /** The provider's base URL, credentials removed; undefined when unknown. */
      url: string | undefined;
      timeoutMs: number;
      /** The agent's last connection error. */
      lastError: string;
    }
  /** Ended after printing nothing for `agent.idle_timeout`. */
  | { status: "idle"; idleMs: number }
  /** Cancelled by the run (Ctrl-C, fail-fast). */
  | { status: "cancelled" };

/** Result of {@link Agent.run}. */
export interface AgentResult {
  outcome: AgentOutcome;
  /** The agent's last message, shown in the summary and saved as final.md. */
  finalMessage: string | undefined;
  /** Tokens of the whole session so far (earlier turns of a resumed session included). */
  usage: TokenUsage | undefined;
  /** Session to resume for follow-ups. */
  sessionId: string | undefined;
}

/** What an agent is given to do its work in one workspace. */
export interface AgentRunOptions {
  /** The worktree. */
  cwd: string;
  prompt: string;
  settings: AgentConfig;
  /** Complete environment for the agent process. */
  env: Record<string, string>;
  signal: AbortSignal;
  /** File that receives the agent's raw output. */
  logFile: string;
  /** Keeps secrets out of the log and of activities. */
  redactor: Redactor;
  /** Continue this session instead of starting a new one (follow-ups). */
  resumeSessionId?: string | undefined;
  /** Tokens the session used before this invocation (follow-ups), for agents that count per call. */
  priorUsage?: TokenUsage | undefined;
  onActivity(activity: AgentActivity): void;
}

/** One coding agent behind one small interface; agents never touch git metadata. */
export interface Agent {
  run(options: AgentRunOptions): Promise<AgentResult>;
}
