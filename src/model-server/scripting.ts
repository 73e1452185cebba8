import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/**
 * What the two scripted model servers (OpenAI Responses, Anthropic Messages) share: routing a
 * request to its scripted reply, reading bodies, writing server-sent events, and listening on a
 * loopback port.
 */

/** Where a request stands in its scripted conversation. */
export interface ScriptPosition {
  /** The current turn's prompt (`""` if none was found). */
  readonly prompt: string;
  /** How many tool results follow the current prompt: 0 for a turn's first request, then 1, 2, … */
  readonly step: number;
}

/** What a script sees of one request, whichever API it came through. */
export interface ScriptedRequest<Body> extends ScriptPosition {
  /** The parsed request body, untouched. */
  readonly body: Body;
  /** The prompts the user gave in this conversation, oldest first (the last one is the current turn's). */
  readonly prompts: readonly string[];
}

/** The text of a message's content: a string, or the `text` of each of its parts, joined. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part: unknown) =>
      typeof part === "object" && part !== null && "text" in part && typeof part.text === "string"
        ? part.text
        : "",
    )
    .join("");
}

/** Builds the reply for a request the script has nothing for (a loud error beats a silent default). */
export type Exhausted<R, Q> = (what: string, request: Q) => R;

/** Replies `steps[request.step]`: each turn starts at step 0, each tool result advances one step. */
export function sequenceOf<R, Q extends ScriptPosition>(
  steps: readonly R[],
  exhausted: Exhausted<R, Q>,
): (request: Q) => R {
  return (request) => steps[request.step] ?? exhausted("no step left", request);
}

/**
 * Routes each request by the first marker found in the current turn's prompt, so concurrent
 * sessions (and follow-up turns, with their own marker) share one server but follow their own steps.
 */
export function markerRoutesOf<R, Q extends ScriptPosition>(
  routes: Readonly<Record<string, readonly R[]>>,
  exhausted: Exhausted<R, Q>,
): (request: Q) => R {
  const entries = Object.entries(routes);
  return (request) => {
    const route = entries.find(([marker]) => request.prompt.includes(marker));
    if (route === undefined) return exhausted("no marker matches", request);
    return route[1][request.step] ?? exhausted(`no step left for ${route[0]}`, request);
  };
}

/** A running scripted server. */
export interface ScriptedServer<Request> {
  /** Base URL to point the agent at. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order. */
  readonly requests: readonly Request[];
  /** Stops listening and drops open connections (hanging replies included). */
  close(): Promise<void>;
}

/** Where a scripted server listens and what it answers. */
export interface ScriptedServerOptions<Script> {
  readonly script: Script;
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
}

/** The whole body of a request, as text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Writes one server-sent event named after its `type`. */
export function sse(res: ServerResponse, event: { type: string; [key: string]: unknown }): void {
  res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

/** How one scripted API reads its requests and writes its replies. */
export interface ScriptedApi<Body, Request, Reply> {
  /** Whether a POST to this path (query left off) is a model call; anything else gets `notFound`. */
  accepts(path: string): boolean;
  notFound(res: ServerResponse): void;
  /** The body parsed from its text (throws when it is unusable) and the script's view of it. */
  parse(text: string, headers: IncomingHttpHeaders): { body: Body; request: Request };
  /** The reply for a broken request or a throwing script. */
  failure(error: unknown): Reply;
  /** Writes the reply; `body` is undefined when the request could not be parsed, `n` counts from 1. */
  send(res: ServerResponse, reply: Reply, body: Body | undefined, n: number): void;
}

/**
 * Starts a scripted server for `api` on `host:port` (a free port by default): each model call is
 * recorded, given to the script, and answered with its reply. `url` makes the base URL from the
 * server's origin.
 */
export async function startScriptedServer<Body, Request, Reply>(
  api: ScriptedApi<Body, Request, Reply>,
  {
    script,
    host = "127.0.0.1",
    port = 0,
  }: ScriptedServerOptions<(request: Request) => Reply | Promise<Reply>>,
  url: (origin: string) => string,
): Promise<ScriptedServer<Request>> {
  const requests: Request[] = [];
  const listening = await listen(
    (req, res) => {
      void (async () => {
        if (req.method !== "POST" || !api.accepts((req.url ?? "").split("?")[0] ?? "")) {
          api.notFound(res);
          return;
        }
        let reply: Reply;
        let body: Body | undefined;
        let n = 0;
        try {
          const parsed = api.parse(await readBody(req), req.headers);
          body = parsed.body;
          n = requests.push(parsed.request);
          reply = await script(parsed.request);
        } catch (error) {
          // A broken request or a throwing script must surface as a failed turn, not a hung client.
          reply = api.failure(error);
        }
        api.send(res, reply, body, n);
      })();
    },
    host,
    port,
  );
  return { url: url(listening.origin), port: listening.port, requests, close: listening.close };
}

/** A server listening on loopback. */
export interface Listening {
  /** `http://host:port` */
  readonly origin: string;
  readonly port: number;
  /** Stops listening and drops open connections (hanging replies included). */
  close(): Promise<void>;
}

/** Starts `handler` on `host:port` (port 0 picks a free one). */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host: string,
  port: number,
): Promise<Listening> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    origin: `http://${urlHost}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
