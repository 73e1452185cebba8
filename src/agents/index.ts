import type { AgentKind } from "../schema/config.js";
import { claudeAgent } from "./claude/agent.js";
import { codexAgent } from "./codex/agent.js";
import { commandAgent } from "./command.js";
import type { Agent } from "./types.js";

export type * from "./types.js";

/** The agent that implements `agent.kind`. */
export function agentFor(kind: AgentKind): Agent {
  switch (kind) {
    case "codex":
      return codexAgent;
    case "command":
      return commandAgent;
    case "claude":
      return claudeAgent;
  }
}
