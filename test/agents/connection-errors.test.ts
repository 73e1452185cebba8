// How the agents' own retry messages are read: a provider that cannot be reached is a
// connection error (it starts the connect_timeout clock), not the turn's error.
import { describe, expect, it } from "vitest";
import { ClaudeStream } from "../../src/agents/claude/stream.js";
import { CodexStream } from "../../src/agents/codex/stream.js";

describe("codex's reconnect messages", () => {
  it("are connection errors, and a turn that completes after them has no error", () => {
    const stream = new CodexStream();
    const reconnect =
      '{"type":"error","message":"Reconnecting... waiting for network (Connection failed: error sending request)"}';
    expect(stream.read(reconnect)).toEqual([
      {
        kind: "connection-error",
        message: "Reconnecting... waiting for network (Connection failed: error sending request)",
      },
    ]);
    expect(
      stream.read(
        '{"type":"error","message":"Reconnecting... 2/5 (stream disconnected before completion: x)"}',
      )[0]?.kind,
    ).toBe("connection-error");
    stream.read('{"type":"turn.completed","usage":{"input_tokens":1,"output_tokens":1}}');
    expect(stream.errorMessage).toBeUndefined();
    expect(stream.turnCompleted).toBe(true);
  });

  it("that retry an answer (a 5xx) are warnings: codex gives up on those by itself", () => {
    const stream = new CodexStream();
    const line = JSON.stringify({
      type: "error",
      message:
        "Reconnecting... 1/5 (We’re currently experiencing high demand, which may cause temporary errors.)",
    });
    expect(stream.read(line)[0]?.kind).toBe("warning");
    expect(stream.errorMessage).toBeUndefined();
  });

  it("leave other errors as the turn's error", () => {
    const stream = new CodexStream();
    expect(stream.read('{"type":"error","message":"unexpected status 401 Unauthorized"}')).toEqual([
      { kind: "error", message: "unexpected status 401 Unauthorized" },
    ]);
    expect(stream.errorMessage).toBe("unexpected status 401 Unauthorized");
  });
});

describe("claude's api_retry events", () => {
  it("without an HTTP status (no answer at all) are connection errors", () => {
    const stream = new ClaudeStream();
    const line = JSON.stringify({
      type: "system",
      subtype: "api_retry",
      attempt: 3,
      max_retries: 10,
      error_status: null,
      error: "unknown",
    });
    expect(stream.read(line)).toEqual([
      { kind: "connection-error", message: "claude API request failed (unknown); retry 3 of 10" },
    ]);
  });

  it("with an HTTP status stay warnings: the provider answered", () => {
    const stream = new ClaudeStream();
    const line = JSON.stringify({
      type: "system",
      subtype: "api_retry",
      attempt: 1,
      max_retries: 2,
      error_status: 529,
      error: "overloaded",
    });
    expect(stream.read(line)).toEqual([
      { kind: "warning", message: "claude API request failed 529 (overloaded); retry 1 of 2" },
    ]);
  });
});
