/**
 * A scripted stand-in for the OpenAI Responses API, so tests and the offline demo can run the real
 * `codex exec` binary with no network and no API key.
 *
 * What codex 0.169.0 sends (observed): `POST /v1/responses`, headers `thread-id` = `session-id` =
 * the thread id, body `{ model, stream: true, input, tools, ... }`. `input` is the whole thread:
 * developer messages, codex's own user messages (`<environment_context>`, AGENTS.md), the prompts,
 * and per tool call a `function_call` + `function_call_output` (a string: "Chunk ID: …\nProcess
 * exited with code N\n…Output:\n…"). The shell tool is `exec_command`, arguments `{ cmd, login?, … }`;
 * commands run as `/bin/bash -lc '<cmd>'` (so login-shell noise lands in the output).
 *
 * What `codex exec --json` prints (observed, one object per line):
 *   {"type":"thread.started","thread_id":"<uuid>"}
 *   {"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `m` not found. …"}}
 *       (a warning for any model slug codex does not know; the turn goes on)
 *   {"type":"turn.started"}
 *   {"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc 'echo hi'",
 *       "aggregated_output":"","exit_code":null,"status":"in_progress"}}
 *   {"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"…",
 *       "aggregated_output":"hi\n","exit_code":0,"status":"completed"}}   (non-zero exit: "failed")
 *   {"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"…"}}
 *   {"type":"turn.completed","usage":{"input_tokens":N,"cached_input_tokens":N,
 *       "cache_write_input_tokens":N,"output_tokens":N,"reasoning_output_tokens":N}}
 *   usage is summed over the thread's requests, earlier (resumed) turns included, not per turn.
 *   A command the sandbox denies sometimes gets no command_execution item at all.
 * On API failure, exit status 1 after {"type":"error","message":M} and {"type":"turn.failed","error":{"message":M}}:
 *   401 → "unexpected status 401 Unauthorized: <body>, url: http://…/v1/responses"  (same for 403, 404, 502, 503)
 *   500 → "We’re currently experiencing high demand, which may cause temporary errors."  (no status in it)
 *   429 → "exceeded retry limit, last status: 429 Too Many Requests"; 400 → the body itself
 *   broken stream → "stream disconnected before completion: stream closed before response.completed"
 * SIGTERM ends codex (and its sandboxed commands) within milliseconds, no further events.
 * Sessions go to $CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread-id>.jsonl; `codex exec resume
 * <thread-id>` needs that file (else exit 1, no JSONL, "no rollout found" on stderr) and sends the
 * earlier history as input.
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
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

/** One scripted answer to a `POST /v1/responses` request. */
export type ScriptedReply =
  /** Ask codex to run one shell command through its `exec_command` tool. */
  | { kind: "exec"; cmd: string; usage?: ScriptedUsage }
  /** End the turn with this final assistant message. */
  | { kind: "message"; text: string; usage?: ScriptedUsage }
  /** Answer with this HTTP status and body instead of a stream (e.g. 401, 500). */
  | { kind: "http-error"; status: number; body?: string }
  /** Start a 200 event stream, send an unparsable event and close before `response.completed`. */
  | { kind: "malformed" }
  /** Accept the request and never answer (until the server is closed), for cancellation tests. */
  | { kind: "hang" };

/** One item of the Responses `input` array; only the fields a script needs are typed. */
export interface InputItem {
  readonly type: string;
  readonly role?: string;
  readonly content?: unknown;
  readonly name?: string;
  readonly arguments?: string;
  readonly call_id?: string;
  readonly output?: unknown;
}

/** The parsed JSON body codex posts. */
export interface ResponsesRequestBody {
  readonly model?: string;
  readonly input: readonly InputItem[];
  readonly tools?: readonly { readonly type: string; readonly name?: string }[];
  readonly [key: string]: unknown;
}

/** What a script sees of one request. */
export interface ModelRequest extends ScriptedRequest<ResponsesRequestBody> {
  /** Thread id from the `thread-id` header; equals `thread.started.thread_id` and survives resume. */
  readonly threadId: string | undefined;
  /** Every tool output in the thread, oldest first. */
  readonly toolOutputs: readonly string[];
  /** Whether this is `codex exec review` asking for a review (its developer message says so). */
  readonly review: boolean;
  /** The session's working directory, from codex's `<environment_context>` (the worktree). */
  readonly cwd: string | undefined;
}

/** Decides the reply to each request; may be async (e.g. to wait for a test's signal). */
export type Script = (request: ModelRequest) => ScriptedReply | Promise<ScriptedReply>;

/** Tokens one scripted response reports instead of {@link SCRIPTED_USAGE} (for budget tests). */
export interface ScriptedUsage {
  input: number;
  output: number;
  cached?: number;
}

/** The Responses API's usage object for scripted token counts. */
function responseUsage(usage: ScriptedUsage | undefined): Record<string, unknown> {
  if (usage === undefined) return SCRIPTED_USAGE;
  return {
    input_tokens: usage.input,
    input_tokens_details: { cached_tokens: usage.cached ?? 0 },
    output_tokens: usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.input + usage.output,
  };
}

/** Usage reported by every completed response; codex sums it over the requests of a turn. */
export const SCRIPTED_USAGE = {
  input_tokens: 100,
  input_tokens_details: { cached_tokens: 20 },
  output_tokens: 10,
  output_tokens_details: { reasoning_tokens: 2 },
  total_tokens: 110,
} as const;

/** Model slug to pass with `-m`; unknown to codex, hence its "Model metadata … not found" warning. */
export const SCRIPTED_MODEL = "scripted-model";

// User messages codex injects itself, which are not prompts a person typed.
const INJECTED_USER_TEXT =
  /^\s*(<environment_context>|<user_instructions>|# AGENTS\.md instructions)/;

/** Derives the script's view (prompts, step, tool outputs) from a parsed body and the thread header. */
export function toModelRequest(body: ResponsesRequestBody, threadId?: string): ModelRequest {
  const prompts: string[] = [];
  const toolOutputs: string[] = [];
  let step = 0;
  let review = false;
  let cwd: string | undefined;
  for (const item of body.input) {
    if (item.type === "message" && item.role === "developer") {
      if (REVIEW_GUIDELINES.test(textOf(item.content))) review = true;
    } else if (item.type === "message" && item.role === "user") {
      const text = textOf(item.content);
      cwd ??= /<cwd>([^<]*)<\/cwd>/.exec(text)?.[1];
      if (!INJECTED_USER_TEXT.test(text)) {
        prompts.push(text);
        step = 0;
      }
    } else if (item.type === "function_call_output") {
      toolOutputs.push(typeof item.output === "string" ? item.output : textOf(item.output));
      step += 1;
    }
  }
  return {
    body,
    threadId,
    prompts,
    prompt: prompts.at(-1) ?? "",
    step,
    toolOutputs,
    review,
    cwd,
  };
}

/** How `codex exec review` opens its developer message (codex 0.169). */
const REVIEW_GUIDELINES = /^\s*# Review guidelines:/;

/** One finding of a scripted review, in the shape codex asks its model for. */
export interface ScriptedFinding {
  priority: 0 | 1 | 2 | 3;
  title: string;
  body: string;
  /** Absolute path of the file. */
  file: string;
  start: number;
  end: number;
  confidence?: number;
}

/** The final message of a review turn: the review JSON codex asks for, as the model would write it. */
export function reviewReply(
  verdict: "patch is correct" | "patch is incorrect",
  explanation: string,
  findings: readonly ScriptedFinding[] = [],
): ScriptedReply {
  return {
    kind: "message",
    text: JSON.stringify({
      findings: findings.map((finding) => ({
        title: `[P${finding.priority}] ${finding.title}`,
        body: finding.body,
        confidence_score: finding.confidence ?? 0.8,
        priority: finding.priority,
        code_location: {
          absolute_file_path: finding.file,
          line_range: { start: finding.start, end: finding.end },
        },
      })),
      overall_correctness: verdict,
      overall_explanation: explanation,
      overall_confidence_score: 0.8,
    }),
  };
}

function exhausted(what: string, request: ModelRequest): ScriptedReply {
  // A loud 500 (codex gives up at once with retries = 0) beats a silent default reply.
  return {
    kind: "http-error",
    status: 500,
    body: `scripted model server: ${what} (step ${request.step}, prompt ${JSON.stringify(request.prompt)})`,
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
export function markerScript(
  routes: Readonly<Record<string, readonly ScriptedReply[]>>,
  reviews: Readonly<Record<string, readonly ScriptedReply[]>> = {},
): Script {
  const byMarker = markerRoutesOf(routes, exhausted);
  return (request) => (request.review ? reviewRoute(reviews, request) : byMarker(request));
}

/**
 * A review request carries no task prompt: it is routed by its working directory, the worktree,
 * whose folder name is the key (the workspace's name).
 */
function reviewRoute(
  reviews: Readonly<Record<string, readonly ScriptedReply[]>>,
  request: ModelRequest,
): ScriptedReply {
  const folder = request.cwd?.split("/").filter(Boolean).at(-1);
  const steps = folder === undefined ? undefined : reviews[folder];
  if (steps === undefined) return exhausted(`no review scripted for ${request.cwd}`, request);
  return steps[request.step] ?? exhausted(`no review step left for ${folder}`, request);
}

/** A running server; its `url` is the base URL ending in /v1, for the provider's base_url. */
export type ModelServer = ScriptedServer<ModelRequest>;

/** Options of the server. */
export type ModelServerOptions = ScriptedServerOptions<Script>;

function outputItem(
  reply: Extract<ScriptedReply, { kind: "exec" | "message" }>,
  n: number,
): Record<string, unknown> {
  if (reply.kind === "exec") {
    return {
      type: "function_call",
      id: `fc_${n}`,
      call_id: `call_${n}`,
      name: "exec_command",
      arguments: JSON.stringify({ cmd: reply.cmd }),
    };
  }
  return {
    type: "message",
    id: `msg_${n}`,
    role: "assistant",
    content: [{ type: "output_text", text: reply.text, annotations: [] }],
  };
}

function send(res: ServerResponse, reply: ScriptedReply, n: number): void {
  switch (reply.kind) {
    case "hang":
      return; // Left open on purpose; close() destroys the socket.
    case "http-error": {
      const body =
        reply.body ??
        JSON.stringify({
          error: { message: `scripted status ${reply.status}`, type: "scripted_error" },
        });
      res.writeHead(reply.status, { "content-type": "application/json" }).end(body);
      return;
    }
    case "malformed":
      res.writeHead(200, { "content-type": "text/event-stream" });
      sse(res, { type: "response.created", response: { id: `resp_${n}` } });
      res.end("event: response.output_item.done\ndata: {not json\n\n");
      return;
    case "exec":
    case "message":
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      sse(res, { type: "response.created", response: { id: `resp_${n}` } });
      sse(res, { type: "response.output_item.done", output_index: 0, item: outputItem(reply, n) });
      sse(res, {
        type: "response.completed",
        response: { id: `resp_${n}`, usage: responseUsage(reply.usage) },
      });
      res.end();
      return;
  }
}

/** How the Responses API is served: `POST …/responses`, the thread id from its header. */
const RESPONSES_API: ScriptedApi<ResponsesRequestBody, ModelRequest, ScriptedReply> = {
  accepts: (path) => path.endsWith("/responses"),
  notFound: (res) => res.writeHead(404).end(),
  parse(text, headers) {
    const body = JSON.parse(text) as ResponsesRequestBody;
    const threadHeader = headers["thread-id"] ?? headers["session-id"];
    return {
      body,
      request: toModelRequest(body, typeof threadHeader === "string" ? threadHeader : undefined),
    };
  },
  failure: (error) => ({
    kind: "http-error",
    status: 500,
    body: `scripted model server: ${String(error)}`,
  }),
  send: (res, reply, _body, n) => send(res, reply, n),
};

/** Starts the scripted Responses server on `host:port` (a free port by default). */
export function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  return startScriptedServer(RESPONSES_API, options, (origin) => `${origin}/v1`);
}

/** Provider name used by {@link codexProviderArgs}. */
export const SCRIPTED_PROVIDER = "scripted";

/**
 * Codex configuration pointing it at the server, as `key → TOML value` (what `agent.config` in
 * conductor.yaml holds). The provider has no `env_key`, so codex needs no API key; retries are off
 * so 5xx and broken streams fail the turn at once instead of backing off.
 */
export function codexProviderConfig(
  url: string,
  name: string = SCRIPTED_PROVIDER,
): Record<string, string> {
  const provider = `{ name = ${JSON.stringify(name)}, base_url = ${JSON.stringify(url)}, wire_api = "responses", request_max_retries = 0, stream_max_retries = 0 }`;
  return { model_provider: JSON.stringify(name), [`model_providers.${name}`]: provider };
}

/** The same configuration as `-c key=value` arguments of `codex exec`. */
export function codexProviderArgs(url: string, name: string = SCRIPTED_PROVIDER): string[] {
  return Object.entries(codexProviderConfig(url, name)).flatMap(([key, value]) => [
    "-c",
    `${key}=${value}`,
  ]);
}

// Without these, codex also looks up ab.chatgpt.com (analytics), and github.com / chatgpt.com
// (plugin sync via `git ls-remote https://github.com/openai/plugins.git`); offline they only fail.
const OFFLINE_CONFIG = `# Private CODEX_HOME for a scripted model server: nothing here should reach the network.
[analytics]
enabled = false

[features]
plugins = false
`;

/**
 * Creates a private CODEX_HOME (a fresh temp directory unless `dir` is given) with a config.toml that
 * keeps codex offline. No auth.json is needed: the scripted provider asks for no credentials.
 */
export async function prepareCodexHome(dir?: string): Promise<string> {
  const home = dir ?? (await mkdtemp(join(tmpdir(), "conductor-codex-home-")));
  await mkdir(home, { recursive: true });
  await writeFile(join(home, "config.toml"), OFFLINE_CONFIG);
  return home;
}
