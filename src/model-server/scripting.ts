import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * What the two scripted model servers (OpenAI Responses, Anthropic Messages) share: routing a
 * request to its scripted reply, reading bodies, writing server-sent events, and listening on a
 * loopback port.
 */

/** Where a request stands in its scripted conversation. */
export interface ScriptPosition {
  /** The current turn's prompt. */
  readonly prompt: string;
  /** Tool results since that prompt: 0 for the first reply of a turn. */
  readonly step: number;
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
