import type { AgentKind } from "../schema/config.js";
import { claudeReviewer } from "./claude/review.js";
import { codexReviewer } from "./codex/review.js";
import { commandReviewer } from "./command-review.js";
import type { Reviewer } from "./reviewer.js";

/** The reviewer of `agent.kind`: the same program that implements, in a read-only session. */
export function reviewerFor(kind: AgentKind): Reviewer {
  switch (kind) {
    case "codex":
      return codexReviewer;
    case "claude":
      return claudeReviewer;
    case "command":
      return commandReviewer;
  }
}
