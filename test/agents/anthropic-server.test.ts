// The scripted Messages API server on its own, over plain HTTP (the e2e tests drive it with claude).
import { afterEach, describe, expect, it } from "vitest";
import {
  type AnthropicServer,
  type MessagesRequestBody,
  markerScript,
  SCRIPTED_USAGE,
  type Script,
  sequenceScript,
  startAnthropicServer,
  toMessagesRequest,
} from "../../src/model-server/anthropic.js";

const servers: AnthropicServer[] = [];

async function serve(script: Script): Promise<AnthropicServer> {
  const server = await startAnthropicServer({ script });
  servers.push(server);
  return server;
}

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

const REMINDER = { type: "text", text: "<system-reminder>\nToday is a day.\n</system-reminder>\n" };

/** A body shaped like claude's: reminder + prompt, a `system` entry, a tool round trip. */
function body(stream: boolean | undefined): MessagesRequestBody {
  return {
    model: "scripted-model",
    ...(stream === undefined ? {} : { stream }),
    messages: [
      { role: "user", content: [REMINDER, { type: "text", text: "FIRST do it" }] },
      { role: "system", content: "Available agent types…" },
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } }],
      },
      {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: "t1", content: "a.txt", is_error: false }],
      },
    ],
  };
}

async function post(server: AnthropicServer, payload: unknown, session = "s-1"): Promise<Response> {
  return fetch(`${server.url}/v1/messages?beta=true`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-claude-code-session-id": session },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
}

/** The `data:` objects of a server-sent event stream, checking each `event:` name matches its type. */
function events(text: string): { type: string; [key: string]: unknown }[] {
  return text
    .split("\n\n")
    .filter((chunk) => chunk.trim() !== "")
    .map((chunk) => {
      const name = /^event: (.*)$/m.exec(chunk)?.[1];
      const data = JSON.parse(/^data: (.*)$/m.exec(chunk)?.[1] ?? "null") as { type: string };
      expect(data.type).toBe(name);
      return data;
    });
}

describe("toMessagesRequest", () => {
  it("finds the prompts and counts tool results since the last one, skipping injected text", () => {
    const request = toMessagesRequest(body(true), "s-1");

    expect(request).toMatchObject({
      sessionId: "s-1",
      prompts: ["FIRST do it"],
      prompt: "FIRST do it",
      step: 1,
    });
    expect(request.toolResults).toEqual(["a.txt"]);
  });

  it("starts a resumed session's new turn at step 0, keeping the earlier history", () => {
    const resumed = body(true);
    const request = toMessagesRequest({
      ...resumed,
      messages: [
        ...resumed.messages,
        { role: "assistant", content: [{ type: "text", text: "done" }] },
        { role: "user", content: [{ type: "text", text: "SECOND more" }] },
      ],
    });

    expect(request).toMatchObject({
      prompts: ["FIRST do it", "SECOND more"],
      prompt: "SECOND more",
      step: 0,
    });
    expect(request.toolResults).toEqual(["a.txt"]);
  });
});

describe("startAnthropicServer", () => {
  it("streams a Bash tool call as message_start … message_stop with usage and stop_reason tool_use", async () => {
    const server = await serve(
      sequenceScript([
        { kind: "message", text: "unused" },
        { kind: "bash", command: "ls -la" },
      ]),
    );
    const response = await post(server, body(true));

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const stream = events(await response.text());
    expect(stream.map((event) => event.type)).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(stream[0]).toMatchObject({
      message: {
        role: "assistant",
        model: "scripted-model",
        content: [],
        usage: { input_tokens: 100 },
      },
    });
    expect(stream[2]).toMatchObject({
      index: 0,
      content_block: { type: "tool_use", name: "Bash", input: {} },
    });
    expect(stream[3]).toMatchObject({
      delta: { type: "input_json_delta", partial_json: '{"command":"ls -la"}' },
    });
    expect(stream[5]).toMatchObject({
      delta: { stop_reason: "tool_use" },
      usage: { output_tokens: SCRIPTED_USAGE.output_tokens },
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ sessionId: "s-1", step: 1 });
  });

  it("streams a text reply ending the turn", async () => {
    const server = await serve(sequenceScript([{ kind: "message", text: "All done." }]));
    const stream = events(
      await (await post(server, { ...body(true), messages: [body(true).messages[0]] })).text(),
    );

    expect(stream[2]).toMatchObject({ content_block: { type: "text", text: "" } });
    expect(stream[3]).toMatchObject({ delta: { type: "text_delta", text: "All done." } });
    expect(stream[5]).toMatchObject({ delta: { stop_reason: "end_turn" } });
  });

  it("answers a non-streaming request with a whole message", async () => {
    const server = await serve(
      sequenceScript([
        { kind: "message", text: "x" },
        { kind: "bash", command: "pwd" },
      ]),
    );
    const response = await post(server, body(undefined));

    expect(await response.json()).toMatchObject({
      type: "message",
      role: "assistant",
      content: [{ type: "tool_use", name: "Bash", input: { command: "pwd" } }],
      stop_reason: "tool_use",
      usage: SCRIPTED_USAGE,
    });
  });

  it("answers scripted HTTP errors with an Anthropic error body", async () => {
    const server = await serve(sequenceScript([{ kind: "http-error", status: 401 }]));
    const response = await post(server, { ...body(true), messages: [body(true).messages[0]] });

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      type: "error",
      error: { type: "authentication_error", message: "scripted status 401" },
    });
  });

  it("breaks the stream for a malformed reply", async () => {
    const server = await serve(
      markerScript({ FIRST: [{ kind: "malformed" }, { kind: "malformed" }] }),
    );
    const text = await (await post(server, body(true))).text();

    expect(text).toContain("event: message_start");
    expect(text).toContain("data: {not json");
    expect(text).not.toContain("message_stop");
  });

  it("keeps a hanging request open until the server closes", async () => {
    let asked: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const server = await startAnthropicServer({
      script: () => {
        asked();
        return { kind: "hang" };
      },
    });
    const pending = post(server, body(true)).then(
      () => "answered",
      () => "dropped",
    );
    await arrived;
    const first = await Promise.race([
      pending,
      new Promise((resolve) => setTimeout(() => resolve("open"), 200)),
    ]);
    await server.close();

    expect(first).toBe("open");
    expect(await pending).toBe("dropped");
  });

  it("turns a broken body, a throwing script or a missing step into a 500 naming the problem", async () => {
    const server = await serve(markerScript({ FIRST: [] }));

    const broken = await post(server, "{oops");
    expect(broken.status).toBe(500);
    expect(await broken.text()).toContain("scripted model server: SyntaxError");

    const exhausted = await post(server, body(true));
    expect(exhausted.status).toBe(500);
    expect(await exhausted.text()).toContain(
      'no step left for FIRST (step 1, prompt \\"FIRST do it\\")',
    );

    const thrower = await serve(() => {
      throw new Error("script bug");
    });
    const thrown = await post(thrower, body(true));
    expect(thrown.status).toBe(500);
    expect(await thrown.text()).toContain("script bug");
  });

  it("answers other paths, such as claude's HEAD / warm-up, with 404", async () => {
    const server = await serve(sequenceScript([]));

    expect((await fetch(server.url, { method: "HEAD" })).status).toBe(404);
    expect(
      (await fetch(`${server.url}/v1/messages/count_tokens`, { method: "POST", body: "{}" }))
        .status,
    ).toBe(404);
    expect(server.requests).toEqual([]);
  });
});
