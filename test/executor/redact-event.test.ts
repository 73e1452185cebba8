import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/executor/events.js";
import { redactEvent } from "../../src/executor/redact-event.js";
import { KnownSecrets } from "../../src/secrets/known-secrets.js";

const SECRET = "s3cret-value";
const secrets = new KnownSecrets([SECRET]);
const redact = (text: string) => secrets.redact(text);
const base = { time: "2026-01-01T00:00:00.000Z", runId: "r1" };

describe("redactEvent", () => {
  it("redacts decoded agent text: messages, commands, file paths it reports", () => {
    const events: RunEvent[] = [
      {
        ...base,
        type: "agent.activity",
        workspace: "w",
        activity: { kind: "message", text: `the key is ${SECRET}` },
      },
      {
        ...base,
        type: "agent.activity",
        workspace: "w",
        activity: { kind: "command", command: `echo ${SECRET}`, exitCode: 0 },
      },
      {
        ...base,
        type: "agent.activity",
        workspace: "w",
        activity: { kind: "file-change", paths: [`notes-${SECRET}.txt`] },
      },
    ];
    for (const event of events) {
      const text = JSON.stringify(redactEvent(event, redact));
      expect(text).not.toContain(SECRET);
      expect(text).toContain("[redacted]");
    }
  });

  it("redacts final messages and failure messages, and keeps the paths and ids conductor works with", () => {
    const event: RunEvent = {
      ...base,
      type: "step.finished",
      workspace: "w",
      step: "agent",
      status: "failed",
      durationMs: 5,
      result: { step: "agent", sessionId: "thread-1", finalMessage: `said ${SECRET}` },
      failure: {
        reason: "agent-error",
        step: "agent",
        message: `401 for ${SECRET}`,
        logPath: `/runs/${SECRET}/agent.log`,
      },
    };
    const redacted = redactEvent(event, redact);
    expect(redacted).toEqual({
      ...event,
      result: { step: "agent", sessionId: "thread-1", finalMessage: "said [redacted]" },
      failure: { ...event.failure, message: "401 for [redacted]" },
    });
  });

  it("keeps a worktree path and branch whole even when a secret is part of them", () => {
    const event: RunEvent = {
      ...base,
      type: "step.finished",
      workspace: "w",
      step: "worktree",
      status: "succeeded",
      durationMs: 5,
      result: {
        step: "worktree",
        path: `/home/${SECRET}/w`,
        branch: `conductor/${SECRET}`,
        startCommit: "abc",
      },
    };
    expect(redactEvent(event, redact)).toEqual(event);
  });

  it("keeps a key named __proto__ as data", () => {
    const event = {
      ...base,
      type: "run.finished",
      status: "succeeded",
      durationMs: 1,
      counts: JSON.parse('{"__proto__": 1}'),
    } as RunEvent;
    const redacted = redactEvent(event, redact) as { counts: object };
    expect(Object.getPrototypeOf(redacted.counts)).toBe(Object.prototype);
    expect(Object.keys(redacted.counts)).toEqual(["__proto__"]);
  });
});
