/**
 * A scripted stand-in for the Anthropic Messages API, so tests (and an offline demo) can run the
 * real `claude` binary of @anthropic-ai/claude-code with no network and no real API key. The twin
 * of ./server.ts, which does the same for codex and the OpenAI Responses API.
 *
 * What claude 2.1.196 sends (observed with ANTHROPIC_BASE_URL=http://127.0.0.1:PORT):
 *   `HEAD /` once at start (a connection warm-up; any status will do), then per model call
 *   `POST /v1/messages?beta=true`, headers `x-api-key` (ANTHROPIC_API_KEY), `anthropic-version:
 *   2023-06-01`, `anthropic-beta: claude-code-20250219,…`, `x-claude-code-session-id` = the session
 *   id (it survives --resume), `x-stainless-retry-count`. Body `{ model, messages, system, tools,
 *   metadata, max_tokens, thinking, context_management, output_config, stream: true }`.
 *   `messages` is the whole session: the first user message is
 *   `[{type:"text", text:"<system-reminder>…"}, {type:"text", text:PROMPT}]`; there are
 *   `{role:"system", content:"…"}` entries between them (a beta); each tool call comes back as an
 *   assistant `{type:"tool_use", id, name, input}` and a user `{type:"tool_result", tool_use_id,
 *   content, is_error}`; a resumed session sends all of that again, then a user message with the new
 *   prompt. Bash results: "(Bash completed with no output)", or "Exit code N" (+ output) with
 *   is_error true. The default model is `claude-opus-4-8`; `--model NAME` passes any name through.
 *   After a broken stream claude retries the same body once without `stream` (non-streaming
 *   fallback), so the server answers non-streaming requests too, with a plain JSON message.
 *
 * The stream it understands (server-sent events, `event: T\ndata: {"type":T,…}`):
 *   message_start {message:{id, type:"message", role:"assistant", model, content:[], stop_reason:null,
 *       usage:{input_tokens, cache_read_input_tokens, cache_creation_input_tokens, output_tokens}}}
 *   content_block_start {index, content_block:{type:"text", text:""} | {type:"tool_use", id, name, input:{}}}
 *   content_block_delta {index, delta:{type:"text_delta", text} | {type:"input_json_delta", partial_json}}
 *   content_block_stop {index}
 *   message_delta {delta:{stop_reason:"end_turn"|"tool_use", stop_sequence:null}, usage:{output_tokens}}
 *   message_stop {}
 *
 * What `claude -p PROMPT --output-format stream-json --verbose` prints (observed, one object a line):
 *   {"type":"system","subtype":"init","cwd":…,"session_id":"<uuid>","tools":[…],"model":…,
 *       "permissionMode":"default","apiKeySource":"ANTHROPIC_API_KEY","claude_code_version":"2.1.196",…}
 *   {"type":"assistant","message":{"id":"msg_…","model":…,"content":[ONE block],"usage":{…from
 *       message_start…}},"parent_tool_use_id":null,"session_id":…}
 *       one event per content block: a reply with text + tool_use gives two events, same message id
 *       and usage. Blocks: {type:"text",text}, {type:"tool_use",id,name,input}, {type:"thinking",…}.
 *   {"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":…,
 *       "content":"…","is_error":false}]},"tool_use_result":{…tool specific…},"session_id":…}
 *   {"type":"result","subtype":"success","is_error":false,"api_error_status":null,"num_turns":2,
 *       "result":"<final text>","session_id":…,"total_cost_usd":…,"usage":{"input_tokens":200,
 *       "cache_creation_input_tokens":0,"cache_read_input_tokens":40,"output_tokens":20,…},
 *       "modelUsage":{…},"permission_denials":[{tool_name,tool_use_id,tool_input}],…}
 *       usage is summed over this invocation's requests only (a resumed session starts again at 0);
 *       input_tokens excludes the cache_* counts.
 *   {"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,"retry_delay_ms":574,
 *       "error_status":401,"error":"authentication_failed",…}   before each retry
 * On API failure, exit status 1 after an assistant message with model "<synthetic>" carrying the
 * error text, and a result with subtype "success" (sic), is_error true, api_error_status:
 *   401 → "Failed to authenticate. API Error: 401 <error.message>"  (api_error_status 401;
 *         "Invalid API key · Fix external API key" when error.message is "invalid x-api-key")
 *   500 → "API Error: 500 <error.message>. This is a server-side issue, …"  (api_error_status 500)
 *   broken stream → after the non-streaming retry: "API Error: Failed to parse JSON" when that
 *         answer is broken too, "API Error: API returned an empty or malformed response (HTTP
 *         200) — …" when it is a stream again; stderr gets "Could not parse message into JSON: …"
 *   no answer → "Request timed out" after 300 s
 * Claude retries every failed request (401 included) up to 10 times with back-off, ~3 minutes in
 * all: CLAUDE_CODE_MAX_RETRIES=0 makes failures immediate. Errors before the first request (an
 * unknown --resume id) give a result with subtype "error_during_execution", no `result` text and
 * `errors: ["No conversation found with session ID: …"]`; argument errors print only to stderr.
 * SIGTERM ends claude within milliseconds, no further events.
 * Sessions are kept in $CLAUDE_CONFIG_DIR/projects/<cwd with / as ->/<session-id>.jsonl, so
 * `--resume <id>` works from the same working directory; Bash scratch files go under
 * $TMPDIR/claude-<uid>/.
 */
import { mkdir, mkdtemp } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  markerRoutesOf,
  type ScriptedApi,
  type ScriptedRequest,
  type ScriptedServer,
  type ScriptedServerOptions,
  sequenceOf,
  sse,
  startScriptedServer,
  textOf,
} from "./scripting.js";

/** One scripted answer to a `POST /v1/messages` request. */
export type ScriptedReply =
  /** Ask claude to run one shell command through its `Bash` tool. */
  | { kind: "bash"; command: string }
  /** Call any other tool, e.g. `Write` with `{ file_path, content }`. */
  | { kind: "tool"; name: string; input: Record<string, unknown> }
  /** End the turn with this final assistant text. */
  | { kind: "message"; text: string }
  /** Answer with this HTTP status and body instead of a stream (e.g. 401, 500). */
  | { kind: "http-error"; status: number; body?: string }
  /** Start a 200 event stream, send an unparsable event and close before `message_stop`. */
  | { kind: "malformed" }
  /** Accept the request and never answer (until the server is closed), for cancellation tests. */
  | { kind: "hang" };

/** One content block of a message; only the fields a script needs are typed. */
export interface ContentBlock {
  readonly type: string;
  readonly text?: string;
  readonly id?: string;
  readonly name?: string;
  readonly input?: unknown;
  readonly tool_use_id?: string;
  readonly content?: unknown;
  readonly is_error?: boolean;
}

/** One entry of the Messages `messages` array. */
export interface Message {
  readonly role: string;
  readonly content: string | readonly ContentBlock[];
}

/** The parsed JSON body claude posts. */
export interface MessagesRequestBody {
  readonly model?: string;
  readonly messages: readonly Message[];
  readonly stream?: boolean;
  readonly tools?: readonly { readonly name?: string }[];
  readonly [key: string]: unknown;
}

/** What a script sees of one request. */
export interface MessagesRequest extends ScriptedRequest<MessagesRequestBody> {
  /** Session id from the `x-claude-code-session-id` header; equals the `init` event's and survives resume. */
  readonly sessionId: string | undefined;
  /** The text of every tool result in the session, oldest first. */
  readonly toolResults: readonly string[];
}

/** Decides the reply to each request; may be async (e.g. to wait for a test's signal). */
export type Script = (request: MessagesRequest) => ScriptedReply | Promise<ScriptedReply>;

/**
 * Usage reported by every scripted reply (input in `message_start`, output in `message_delta`).
 * Claude sums it over the requests of one invocation in its `result` event.
 */
export const SCRIPTED_USAGE = {
  input_tokens: 100,
  cache_read_input_tokens: 20,
  cache_creation_input_tokens: 0,
  output_tokens: 10,
} as const;

/** Model name to pass with `--model`; claude sends it through unchecked. */
export const SCRIPTED_MODEL = "scripted-model";

/** API key for the scripted server: any value is accepted. */
export const SCRIPTED_API_KEY = "test-key";

// Text blocks claude adds to user messages itself, which are not prompts a person typed.
const INJECTED_USER_TEXT = /^\s*(<system-reminder>|<command-|<local-command-|Caveat: )/;

/** Derives the script's view (prompts, step, tool results) from a parsed body and the session header. */
export function toMessagesRequest(body: MessagesRequestBody, sessionId?: string): MessagesRequest {
  const prompts: string[] = [];
  const toolResults: string[] = [];
  let step = 0;
  for (const message of body.messages) {
    if (message.role !== "user") continue;
    const blocks: readonly ContentBlock[] =
      typeof message.content === "string"
        ? [{ type: "text", text: message.content }]
        : message.content;
    for (const block of blocks) {
      if (block.type === "text" && typeof block.text === "string") {
        if (INJECTED_USER_TEXT.test(block.text)) continue;
        prompts.push(block.text);
        step = 0;
      } else if (block.type === "tool_result") {
        toolResults.push(textOf(block.content));
        step += 1;
      }
    }
  }
  return { body, sessionId, prompts, prompt: prompts.at(-1) ?? "", step, toolResults };
}

function exhausted(what: string, request: MessagesRequest): ScriptedReply {
  // A loud error (claude gives up at once with CLAUDE_CODE_MAX_RETRIES=0) beats a silent default.
  return {
    kind: "http-error",
    status: 500,
    body: errorBody(
      `scripted model server: ${what} (step ${request.step}, prompt ${JSON.stringify(request.prompt)})`,
    ),
  };
}

/** Replies `steps[request.step]`: each turn starts at step 0, and each tool result advances one step. */
export function sequenceScript(steps: readonly ScriptedReply[]): Script {
  return sequenceOf(steps, exhausted);
}

/**
 * Routes each request by the first marker found in the current turn's prompt, so concurrent
 * sessions (and follow-up turns, with their own marker) share one server but follow their own steps.
 */
export function markerScript(routes: Readonly<Record<string, readonly ScriptedReply[]>>): Script {
  return markerRoutesOf(routes, exhausted);
}

/** A running server; its `url` is the base URL without /v1, for ANTHROPIC_BASE_URL. */
export type AnthropicServer = ScriptedServer<MessagesRequest>;

/** Options of the server. */
export type AnthropicServerOptions = ScriptedServerOptions<Script>;

/** The Messages API's error body, e.g. `{"type":"error","error":{"type":"api_error","message":…}}`. */
function errorBody(message: string, type = "api_error"): string {
  return JSON.stringify({ type: "error", error: { type, message } });
}

const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  429: "rate_limit_error",
  529: "overloaded_error",
};

type ContentReply = Extract<ScriptedReply, { kind: "bash" | "tool" | "message" }>;

/** The one content block a reply stands for, as it appears in a complete message. */
function contentBlock(reply: ContentReply, n: number): ContentBlock {
  switch (reply.kind) {
    case "bash":
      return {
        type: "tool_use",
        id: `toolu_scripted_${n}`,
        name: "Bash",
        input: { command: reply.command },
      };
    case "tool":
      return { type: "tool_use", id: `toolu_scripted_${n}`, name: reply.name, input: reply.input };
    case "message":
      return { type: "text", text: reply.text };
  }
}

/** The fields every assistant message opens with, streamed or whole. */
function messageHead(model: string, n: number): Record<string, unknown> {
  return { id: `msg_scripted_${n}`, type: "message", role: "assistant", model };
}

function streamContent(res: ServerResponse, reply: ContentReply, model: string, n: number): void {
  const block = contentBlock(reply, n);
  const { output_tokens, ...input } = SCRIPTED_USAGE;
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  sse(res, {
    type: "message_start",
    message: {
      ...messageHead(model, n),
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...input, output_tokens: 1 },
    },
  });
  sse(res, { type: "ping" });
  if (block.type === "text") {
    sse(res, { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    sse(res, {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: block.text },
    });
  } else {
    sse(res, {
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
    });
    sse(res, {
      type: "content_block_delta",
      index: 0,
      delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) },
    });
  }
  sse(res, { type: "content_block_stop", index: 0 });
  sse(res, {
    type: "message_delta",
    delta: { stop_reason: block.type === "text" ? "end_turn" : "tool_use", stop_sequence: null },
    usage: { output_tokens },
  });
  sse(res, { type: "message_stop" });
  res.end();
}

/** A complete message, for claude's non-streaming fallback request. */
function wholeMessage(res: ServerResponse, reply: ContentReply, model: string, n: number): void {
  const block = contentBlock(reply, n);
  res.writeHead(200, { "content-type": "application/json" }).end(
    JSON.stringify({
      ...messageHead(model, n),
      content: [block],
      stop_reason: block.type === "text" ? "end_turn" : "tool_use",
      stop_sequence: null,
      usage: SCRIPTED_USAGE,
    }),
  );
}

function send(
  res: ServerResponse,
  reply: ScriptedReply,
  body: MessagesRequestBody | undefined,
  n: number,
): void {
  const model = body?.model ?? SCRIPTED_MODEL;
  switch (reply.kind) {
    case "hang":
      return; // Left open on purpose; close() destroys the socket.
    case "http-error":
      res
        .writeHead(reply.status, { "content-type": "application/json" })
        .end(
          reply.body ??
            errorBody(`scripted status ${reply.status}`, ERROR_TYPES[reply.status] ?? "api_error"),
        );
      return;
    case "malformed":
      if (body?.stream !== true) {
        res.writeHead(200, { "content-type": "application/json" }).end("{not json");
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      sse(res, { type: "message_start", message: { ...messageHead(model, n), content: [] } });
      res.end("event: content_block_start\ndata: {not json\n\n");
      return;
    case "bash":
    case "tool":
    case "message":
      if (body?.stream === true) streamContent(res, reply, model, n);
      else wholeMessage(res, reply, model, n);
      return;
  }
}

/** How the Messages API is served: `POST /v1/messages`, the session id from claude's header. */
const MESSAGES_API: ScriptedApi<MessagesRequestBody, MessagesRequest, ScriptedReply> = {
  accepts: (path) => path === "/v1/messages",
  // Includes claude's `HEAD /` warm-up and `count_tokens`, which the tests never need.
  notFound: (res) =>
    res
      .writeHead(404, { "content-type": "application/json" })
      .end(errorBody("not found", "not_found_error")),
  parse(text, headers) {
    const body = JSON.parse(text) as MessagesRequestBody;
    if (!Array.isArray(body.messages)) throw new Error("the body has no messages array");
    const sessionHeader = headers["x-claude-code-session-id"];
    return {
      body,
      request: toMessagesRequest(
        body,
        typeof sessionHeader === "string" ? sessionHeader : undefined,
      ),
    };
  },
  failure: (error) => ({
    kind: "http-error",
    status: 500,
    body: errorBody(`scripted model server: ${String(error)}`),
  }),
  send,
};

/** Starts the scripted Messages API server on `host:port` (a free port by default). */
export function startAnthropicServer(options: AnthropicServerOptions): Promise<AnthropicServer> {
  return startScriptedServer(MESSAGES_API, options, (origin) => origin);
}

/**
 * Environment that points claude at a scripted server and keeps it offline and private: its own
 * HOME, CLAUDE_CONFIG_DIR (settings, sessions) and TMPDIR under `home`; no telemetry, error
 * reports, update checks or other non-essential traffic (checked: with these set, the only
 * connections claude opens are to the server); no retries, so failures are immediate.
 */
export function claudeOfflineEnv(url: string, home: string): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: url,
    ANTHROPIC_API_KEY: SCRIPTED_API_KEY,
    HOME: home,
    CLAUDE_CONFIG_DIR: join(home, ".claude"),
    TMPDIR: join(home, "tmp"),
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    CLAUDE_CODE_MAX_RETRIES: "0",
  };
}

/** Creates a private home for claude (a fresh temp directory unless `dir` is given), with its TMPDIR. */
export async function prepareClaudeHome(dir?: string): Promise<string> {
  const home = dir ?? (await mkdtemp(join(tmpdir(), "conductor-claude-home-")));
  await mkdir(join(home, "tmp"), { recursive: true });
  await mkdir(join(home, ".claude"), { recursive: true });
  return home;
}
