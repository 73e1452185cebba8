import type { Plan } from "../planner/types.js";
import type { RunEvent } from "./events.js";

/**
 * Keys whose strings are names, paths and ids conductor works with later (resume, archive, diff),
 * never free text: they stay as they are. Every other string of an event is text an agent, a
 * script or git produced, or a prompt, and is redacted.
 */
const IDENTIFIERS: ReadonlySet<string> = new Set([
  "type",
  "time",
  "runId",
  "workspace",
  "step",
  "status",
  "reason",
  "kind",
  "path",
  "branch",
  "startCommit",
  "commit",
  "sessionId",
  "copied",
  "logPath",
  "signal",
  "dependency",
  "reopen",
  "task",
  "winner",
  "name",
  "decidedBy",
  "asked",
  "promptFile",
  "answerFile",
  "logFile",
]);

/**
 * The event with its free text redacted: agent messages, commands and reasoning, final messages,
 * failure messages, and in `run.started` the workspaces' prompts. The rest of the plan is the
 * committed config (its `env` is needed to run scripts later) and stays as it is.
 */
export function redactEvent(event: RunEvent, redact: (text: string) => string): RunEvent {
  if (event.type === "run.started") return { ...event, plan: redactPrompts(event.plan, redact) };
  return redactStrings(event, redact) as RunEvent;
}

/** The plan with known secrets taken out of its prompts (the agent still gets them as written). */
export function redactPrompts(plan: Plan, redact: (text: string) => string): Plan {
  return {
    ...plan,
    workspaces: plan.workspaces.map((workspace) => ({
      ...workspace,
      prompt: redact(workspace.prompt),
    })),
  };
}

/** A record written beside the events (ranking.json) with its free text redacted as in events. */
export function redactRecord<T>(record: T, redact: (text: string) => string): T {
  return redactStrings(record, redact) as T;
}

function redactStrings(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactStrings(item, redact));
  if (value === null || typeof value !== "object") return value;
  // fromEntries defines each key as an own property, so a key like "__proto__" stays data.
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      IDENTIFIERS.has(key) ? item : redactStrings(item, redact),
    ]),
  );
}
