import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ClaudeStream, toUsage } from "../../src/agents/claude/stream.js";
import type { AgentActivity } from "../../src/agents/types.js";

/** Lines of a stream recorded from the real claude 2.1.196 (see test/fixtures/claude/README.md). */
function recorded(name: string): string[] {
  return readFileSync(new URL(`../fixtures/claude/${name}`, import.meta.url), "utf8").split("\n");
}

function readAll(stream: ClaudeStream, lines: readonly (string | object)[]): AgentActivity[] {
  return lines.flatMap((line) =>
    stream.read(typeof line === "string" ? line : JSON.stringify(line)),
  );
}

function kinds(activities: readonly AgentActivity[], kind: AgentActivity["kind"]): AgentActivity[] {
  return activities.filter((activity) => activity.kind === kind);
}

const SESSION = "9eed5e92-f17e-4c9b-a4af-f4ab33e9849b";

function assistant(content: object[], extra: object = {}): object {
  return {
    type: "assistant",
    message: {
      id: "msg_1",
      model: "claude-x",
      content,
      usage: { input_tokens: 1, output_tokens: 1 },
    },
    parent_tool_use_id: null,
    session_id: SESSION,
    ...extra,
  };
}

function toolResult(toolUseId: string, content: unknown, isError: boolean): object {
  return {
    type: "user",
    message: {
      role: "user",
      content: [{ type: "tool_result", tool_use_id: toolUseId, content, is_error: isError }],
    },
    session_id: SESSION,
  };
}

describe("ClaudeStream", () => {
  it("reads a recorded run with text, a Bash call and a final result", () => {
    const stream = new ClaudeStream();
    const activities = readAll(stream, recorded("text-and-bash.jsonl"));

    expect(activities[0]).toEqual({
      kind: "session",
      sessionId: "08c9d3a9-ff11-4e9e-92f3-b16da09a4c66",
    });
    expect(kinds(activities, "message")).toEqual([
      { kind: "message", text: "Let me run it." },
      { kind: "message", text: "Done: 3" },
    ]);
    expect(kinds(activities, "command")).toEqual([
      { kind: "command", command: "echo multi > multi.txt", exitCode: undefined },
      { kind: "command", command: "echo multi > multi.txt", exitCode: 0 },
    ]);
    expect(stream.sessionId).toBe("08c9d3a9-ff11-4e9e-92f3-b16da09a4c66");
    expect(stream.finalMessage).toBe("Done: 3");
    expect(stream.resultSeen).toBe(true);
    expect(stream.resultIsError).toBe(false);
    expect(stream.errorMessage).toBeUndefined();
    // The result's totals: input 200 + cache reads 40; output as summed by claude.
    expect(stream.usage).toEqual({
      inputTokens: 240,
      cachedInputTokens: 40,
      outputTokens: 20,
      reasoningTokens: 0,
    });
    expect(kinds(activities, "warning")).toEqual([]);
    expect(kinds(activities, "error")).toEqual([]);
  });

  it("counts live usage once per model reply, although each content block repeats it", () => {
    const activities = readAll(new ClaudeStream(), recorded("text-and-bash.jsonl"));

    // Two blocks of the first reply, one of the second, then the result.
    expect(
      kinds(activities, "usage").map((activity) => activity.kind === "usage" && activity.usage),
    ).toEqual([
      { inputTokens: 120, cachedInputTokens: 20, outputTokens: 1, reasoningTokens: 0 },
      { inputTokens: 240, cachedInputTokens: 40, outputTokens: 2, reasoningTokens: 0 },
      { inputTokens: 240, cachedInputTokens: 40, outputTokens: 20, reasoningTokens: 0 },
    ]);
  });

  it("reports a failed Bash command with its exit code", () => {
    const stream = new ClaudeStream();
    const activities = readAll(stream, recorded("bash-exit-code.jsonl"));

    expect(kinds(activities, "command")).toEqual([
      { kind: "command", command: "exit 3", exitCode: undefined },
      { kind: "command", command: "exit 3", exitCode: 3 },
    ]);
    expect(stream.resultIsError).toBe(false);
  });

  it("reports a successful Write as a file change", () => {
    const activities = readAll(new ClaudeStream(), recorded("write-file.jsonl"));

    expect(kinds(activities, "file-change")).toEqual([
      { kind: "file-change", paths: ["notes.txt"] },
    ]);
    expect(kinds(activities, "command")).toEqual([]);
  });

  it("shows changed files inside the worktree relative to it, and others as they are", () => {
    const stream = new ClaudeStream("/work/tree");
    const activities = readAll(stream, [
      assistant([
        { type: "tool_use", id: "t1", name: "Edit", input: { file_path: "/work/tree/src/app.ts" } },
        { type: "tool_use", id: "t2", name: "Write", input: { file_path: "/elsewhere/x.txt" } },
        {
          type: "tool_use",
          id: "t3",
          name: "NotebookEdit",
          input: { notebook_path: "/work/tree/n.ipynb" },
        },
      ]),
      toolResult("t1", "ok", false),
      toolResult("t2", "ok", false),
      toolResult("t3", [{ type: "text", text: "ok" }], false),
    ]);

    expect(kinds(activities, "file-change")).toEqual([
      { kind: "file-change", paths: ["src/app.ts"] },
      { kind: "file-change", paths: ["/elsewhere/x.txt"] },
      { kind: "file-change", paths: ["n.ipynb"] },
    ]);
  });

  it("takes the worktree from the init event", () => {
    const stream = new ClaudeStream();
    const activities = readAll(stream, [
      { type: "system", subtype: "init", cwd: "/w", session_id: SESSION },
      assistant([{ type: "tool_use", id: "t1", name: "Write", input: { file_path: "/w/a.txt" } }]),
      toolResult("t1", "ok", false),
    ]);

    expect(kinds(activities, "file-change")).toEqual([{ kind: "file-change", paths: ["a.txt"] }]);
  });

  it("does not report a failed Edit as a file change", () => {
    const activities = readAll(new ClaudeStream(), [
      assistant([{ type: "tool_use", id: "t1", name: "Edit", input: { file_path: "README.md" } }]),
      toolResult("t1", "<tool_use_error>File has not been read yet.</tool_use_error>", true),
    ]);

    expect(kinds(activities, "file-change")).toEqual([]);
    expect(kinds(activities, "warning")).toEqual([]);
  });

  it("warns about a Bash call refused before it ran, instead of inventing an exit code", () => {
    const activities = readAll(new ClaudeStream(), [
      assistant([
        { type: "tool_use", id: "t1", name: "Bash", input: { command: "echo hi > /etc/x" } },
      ]),
      toolResult("t1", "Output redirection to '/etc/x' was blocked.", true),
    ]);

    expect(kinds(activities, "command")).toEqual([
      { kind: "command", command: "echo hi > /etc/x", exitCode: undefined },
    ]);
    expect(kinds(activities, "warning")).toEqual([
      {
        kind: "warning",
        message:
          "claude could not run `echo hi > /etc/x`: Output redirection to '/etc/x' was blocked.",
      },
    ]);
  });

  it("counts a subagent's commands but not its words", () => {
    const stream = new ClaudeStream();
    const activities = readAll(stream, [
      assistant(
        [
          { type: "text", text: "subagent chatter" },
          { type: "tool_use", id: "t9", name: "Bash", input: { command: "ls" } },
        ],
        { parent_tool_use_id: "toolu_task" },
      ),
    ]);

    expect(kinds(activities, "message")).toEqual([]);
    expect(kinds(activities, "command")).toEqual([
      { kind: "command", command: "ls", exitCode: undefined },
    ]);
    expect(stream.finalMessage).toBeUndefined();
  });

  it("reports thinking as reasoning", () => {
    const activities = readAll(new ClaudeStream(), [
      assistant([{ type: "thinking", thinking: "hmm", signature: "s" }]),
    ]);

    expect(kinds(activities, "reasoning")).toEqual([{ kind: "reasoning", text: "hmm" }]);
  });

  it("turns an API error into the run's error, adding the status claude's text leaves out", () => {
    const stream = new ClaudeStream();
    const activities = readAll(stream, recorded("api-error-401.jsonl"));

    expect(kinds(activities, "warning")).toEqual([
      {
        kind: "warning",
        message: "claude API request failed 401 (authentication_failed); retry 1 of 2",
      },
      {
        kind: "warning",
        message: "claude API request failed 401 (authentication_failed); retry 2 of 2",
      },
    ]);
    expect(kinds(activities, "error")).toEqual([
      { kind: "error", message: "Invalid API key · Fix external API key (HTTP 401)" },
    ]);
    // The "<synthetic>" stand-in reply is not a message from the model.
    expect(kinds(activities, "message")).toEqual([]);
    expect(stream.finalMessage).toBeUndefined();
    expect(stream.resultSeen).toBe(true);
    expect(stream.resultIsError).toBe(true);
    expect(stream.errorMessage).toBe("Invalid API key · Fix external API key (HTTP 401)");
  });

  it("does not repeat a status that claude's text already names", () => {
    const stream = new ClaudeStream();
    readAll(stream, [
      {
        type: "result",
        subtype: "success",
        is_error: true,
        api_error_status: 500,
        result: "API Error: 500 boom",
      },
    ]);

    expect(stream.errorMessage).toBe("API Error: 500 boom");
  });

  it("takes the message of a failure before the first request from the result's errors", () => {
    const stream = new ClaudeStream();
    const activities = readAll(stream, recorded("resume-unknown-session.jsonl"));

    expect(stream.errorMessage).toBe(
      "No conversation found with session ID: 00000000-0000-4000-8000-000000000000",
    );
    expect(stream.sessionId).toBe("00000000-0000-4000-8000-000000000000");
    expect(kinds(activities, "session")).toEqual([]);
  });

  it("names the subtype of a failed result that has no text", () => {
    const stream = new ClaudeStream();
    readAll(stream, [{ type: "result", subtype: "error_max_turns", is_error: true, num_turns: 5 }]);

    expect(stream.errorMessage).toBe("claude stopped with error_max_turns");
  });

  it("falls back to the synthetic reply's text when no result follows", () => {
    const stream = new ClaudeStream();
    readAll(stream, [
      assistant([{ type: "text", text: "Request timed out" }], {
        message: {
          id: "x",
          model: "<synthetic>",
          content: [{ type: "text", text: "Request timed out" }],
        },
      }),
    ]);

    expect(stream.resultSeen).toBe(false);
    expect(stream.errorMessage).toBeUndefined();
    expect(stream.lastErrorText).toBe("Request timed out");
  });

  it("keeps the session of a resumed turn and reports only that turn's usage", () => {
    const stream = new ClaudeStream();
    readAll(stream, recorded("resumed-turn.jsonl"));

    expect(stream.sessionId).toBe("6856ba98-6887-4540-bea8-362691a90fe5");
    expect(stream.finalMessage).toBe("Done: 43");
    expect(stream.usage).toEqual({
      inputTokens: 120,
      cachedInputTokens: 20,
      outputTokens: 10,
      reasoningTokens: 0,
    });
  });

  it("warns once about tools claude was denied", () => {
    const activities = readAll(new ClaudeStream(), [
      {
        type: "result",
        subtype: "success",
        is_error: false,
        result: "I could not.",
        permission_denials: [
          { tool_name: "Bash", tool_use_id: "a", tool_input: {} },
          { tool_name: "Bash", tool_use_id: "b", tool_input: {} },
          { tool_name: "WebFetch", tool_use_id: "c", tool_input: {} },
        ],
      },
    ]);

    expect(kinds(activities, "warning")).toEqual([
      {
        kind: "warning",
        message:
          'claude was denied permission to use Bash, WebFetch; allow tools with agent.args: [--allowedTools, "…"]',
      },
    ]);
  });

  it("turns malformed lines and unknown events into warnings and reads on", () => {
    const stream = new ClaudeStream();
    const activities = readAll(stream, [
      "",
      "   ",
      "not json at all",
      '{"type":"result","subtype":',
      "[]",
      "null",
      "42",
      '{"no":"type"}',
      '{"type":"brand_new_event","x":1}',
      '{"type":"result","subtype":"success","is_error":false,"result":"still here"}',
    ]);

    expect(activities.map((activity) => activity.kind)).toEqual([
      "warning",
      "warning",
      "warning",
      "warning",
      "warning",
      "warning",
      "warning",
    ]);
    expect(activities[0]).toEqual({
      kind: "warning",
      message: "claude printed a line that is not JSON: not json at all",
    });
    expect(activities[6]).toEqual({
      kind: "warning",
      message: 'unknown claude event "brand_new_event" (kept in the log)',
    });
    expect(stream.finalMessage).toBe("still here");
  });

  it("stays quiet about bookkeeping events and system subtypes it does not use", () => {
    const activities = readAll(new ClaudeStream(), [
      { type: "stream_event", event: { type: "content_block_delta" } },
      { type: "rate_limit_event" },
      { type: "tool_progress" },
      { type: "system", subtype: "compact_boundary" },
      { type: "system", subtype: "status", status: "compacting" },
      { type: "system" },
    ]);

    expect(activities).toEqual([]);
  });

  it("survives events whose fields have the wrong shapes", () => {
    const stream = new ClaudeStream();
    const odd = [
      { type: "system", subtype: "init", session_id: 7, cwd: [] },
      { type: "assistant", message: "text" },
      { type: "assistant", message: { content: "not blocks" } },
      {
        type: "assistant",
        message: { content: [null, 1, "x", { type: "tool_use" }, { type: "text", text: 5 }] },
      },
      { type: "user", message: { content: "a plain prompt" } },
      {
        type: "user",
        message: { content: [{ type: "tool_result", tool_use_id: "unknown", content: 1 }] },
      },
      { type: "system", subtype: "api_retry" },
      {
        type: "result",
        is_error: true,
        usage: "lots",
        errors: [1, null],
        permission_denials: "none",
      },
    ];

    expect(() => readAll(stream, odd)).not.toThrow();
    expect(stream.sessionId).toBeUndefined();
    expect(stream.usage).toBeUndefined();
    expect(stream.errorMessage).toBe("claude stopped with an error");
  });

  it("never throws on any cut of a recorded line", () => {
    const lines = ["text-and-bash.jsonl", "api-error-401.jsonl", "write-file.jsonl"].flatMap(
      recorded,
    );
    for (const line of lines) {
      for (let end = 0; end <= line.length; end += Math.max(1, Math.floor(line.length / 40))) {
        expect(() => new ClaudeStream().read(line.slice(0, end))).not.toThrow();
      }
    }
  });
});

describe("toUsage", () => {
  it("counts cache reads and writes as input, as codex does", () => {
    expect(
      toUsage({
        input_tokens: 5,
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 7,
        output_tokens: 3,
      }),
    ).toEqual({ inputTokens: 112, cachedInputTokens: 100, outputTokens: 3, reasoningTokens: 0 });
    expect(toUsage(undefined)).toBeUndefined();
    expect(toUsage({ input_tokens: "many" })).toEqual({
      inputTokens: 0,
      cachedInputTokens: 0,
      outputTokens: 0,
      reasoningTokens: 0,
    });
  });
});
