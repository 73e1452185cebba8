import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { ConductorError } from "../errors.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { listRunIds, RunPaths, resolveRunId } from "../executor/run-store.js";
import { reportRedactor } from "../report/files.js";
import { defaultLogStep, parseLogStep } from "../review/logs.js";
import type { Redactor } from "../secrets/redact.js";
import {
  ACTIONS,
  type ActionInput,
  type ActionName,
  actionArgs,
  type CliLauncher,
  runCli,
} from "./actions.js";
import { EXTRAS_SCAN_MS, ReviewMarks } from "./extras.js";
import { RunFeed } from "./feed.js";
import { checkRequest } from "./guard.js";
import { ServeManager } from "./serve.js";
import { TimelineLog } from "./timeline-log.js";
import { pageState, type WorkspaceExtras } from "./views.js";
import {
  logSizes,
  logSlice,
  TIMELINE_LIMIT,
  workspaceDiff,
  workspaceReview,
  workspaceTimeline,
} from "./workspace-data.js";

/**
 * `conductor ui`'s HTTP server (node:http, no framework: a dozen routes). Everything lives under
 * `/<token>/`: the page, its assets, the JSON API and the event stream, so relative URLs in the
 * page carry the token by themselves. Requests are checked by `guard.ts` before routing.
 */

/** What the server needs. */
export interface UiServerOptions {
  /** The repository whose runs it shows. */
  root: string;
  /** The run shown when the page names none. */
  runId: string;
  token: string;
  /** Port on 127.0.0.1 (0: any free one, for tests). */
  port: number;
  /** The page's own files (index.html, *.js, *.css). */
  assetsDir: string;
  /** Files of packages the page uses, by the name the page asks for (`diff2html.min.js`). */
  vendorFiles: Readonly<Record<string, string>>;
  launcher: CliLauncher;
}

/** A started server. */
export interface UiServer {
  port: number;
  /** The page's address, token included. */
  url: string;
  /** Stops actions and dev servers it started, ends event streams, closes the socket. */
  close(): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** Content-Security-Policy of every answer: nothing but this server, no inline scripts. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Largest request body (an action's instructions). */
const MAX_BODY_BYTES = 256 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Starts the server on 127.0.0.1 and resolves once it listens. */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const app = new UiApp(options);
  const server = createServer((request, response) => {
    void app.handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port, host: "127.0.0.1" }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  app.port = port;
  // The run's log is read (and followed) before the first page asks: 10,000 events take a moment.
  await app.prepare();
  return {
    port,
    url: `http://127.0.0.1:${port}/${options.token}/`,
    close: () => app.close(server),
  };
}

/** The routes and what they share: one feed per run, the review marks, running actions. */
class UiApp {
  port = 0;
  private readonly feeds = new Map<
    string,
    { feed: RunFeed; marks: ReviewMarks; timeline: TimelineLog; timer: NodeJS.Timeout }
  >();
  private readonly busy = new Map<string, string>();
  private readonly streams = new Set<ServerResponse>();
  private readonly actions = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private readonly serves: ServeManager;

  constructor(private readonly options: UiServerOptions) {
    this.serves = new ServeManager(options.launcher, (runId, name) => this.refresh(runId, name));
  }

  /** Reads the default run's log ahead of the first request. */
  async prepare(): Promise<void> {
    await this.feedOf(this.options.runId);
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader("Content-Security-Policy", CSP);
    response.setHeader("Referrer-Policy", "no-referrer");
    response.setHeader("X-Content-Type-Options", "nosniff");
    response.setHeader("Cache-Control", "no-store");
    const verdict = checkRequest(request, { token: this.options.token, port: this.port });
    if (!verdict.allowed) {
      response.writeHead(verdict.status, { "Content-Type": "text/plain; charset=utf-8" });
      response.end(`${verdict.reason}\n`);
      return;
    }
    if (verdict.redirect !== undefined) {
      response.writeHead(308, { Location: verdict.redirect });
      response.end();
      return;
    }
    try {
      await this.route(request, response, verdict.path, verdict.query);
    } catch (error) {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const status =
        error instanceof HttpError ? error.status : error instanceof ConductorError ? 409 : 500;
      const message = error instanceof Error ? error.message : String(error);
      const hint =
        error instanceof HttpError || error instanceof ConductorError ? error.hint : undefined;
      // An error may quote what a record holds (a damaged record's forged value).
      const redactor = await reportRedactor(undefined);
      sendRedactedJson(
        response,
        status,
        { error: message, ...(hint === undefined ? {} : { hint }) },
        redactor,
      );
    }
  }

  private async route(
    request: IncomingMessage,
    response: ServerResponse,
    route: string,
    query: URLSearchParams,
  ): Promise<void> {
    const method = request.method ?? "GET";
    if (route === "/" && method === "GET") {
      await this.sendFile(response, path.join(this.options.assetsDir, "index.html"));
      return;
    }
    const asset = /^\/assets\/([\w-]+\.(?:js|css|svg|png))$/.exec(route);
    if (asset && method === "GET") {
      await this.sendFile(response, path.join(this.options.assetsDir, asset[1] as string));
      return;
    }
    const vendor = /^\/vendor\/([\w.-]+)$/.exec(route);
    if (vendor && method === "GET") {
      const file = this.options.vendorFiles[vendor[1] as string];
      if (file === undefined) throw new HttpError(404, `no such file: ${route}`);
      await this.sendFile(response, file);
      return;
    }
    if (route === "/api/runs" && method === "GET") {
      sendJson(response, 200, { runs: listRunIds(this.options.root), default: this.options.runId });
      return;
    }
    const runId = this.runIdOf(query);
    const { feed, timeline } = await this.feedOf(runId);
    if (route === "/api/events" && method === "GET") {
      this.stream(request, response, feed);
      return;
    }
    // What the page shows of a run is redacted again, as `logs` and `report` print it: the run's
    // folder is a file tree in the repository that an agent of a later step could have written
    // a secret into, and a page is easily shared on a screen.
    const redactor = await reportRedactor(feed.current());
    const reply = (status: number, body: unknown) =>
      sendRedactedJson(response, status, body, redactor);
    if (route === "/api/state" && method === "GET") {
      const state = feed.current();
      reply(200, state === undefined ? null : pageState(state, (name) => this.extras(runId, name)));
      return;
    }
    const workspaceRoute =
      /^\/api\/workspaces\/([^/]+)\/(diff|logs|timeline|review|actions\/[\w-]+)$/.exec(route);
    if (workspaceRoute === null) throw new HttpError(404, `no such route: ${method} ${route}`);
    const name = decodeName(workspaceRoute[1] as string);
    const what = workspaceRoute[2] as string;
    const found = await this.workspace(runId, name);
    if (what.startsWith("actions/")) {
      if (method !== "POST") throw new HttpError(405, "actions are POST requests");
      const input = await readJson(request);
      reply(200, await this.act(found, what.slice("actions/".length), input));
      return;
    }
    if (method !== "GET") throw new HttpError(405, `${method} ${route} is not allowed`);
    switch (what) {
      case "diff":
        reply(200, await workspaceDiff(found, redactor));
        return;
      case "timeline":
        reply(200, await workspaceTimeline(found, timeline));
        return;
      case "review":
        reply(200, (await workspaceReview(found)) ?? null);
        return;
      case "logs": {
        const stepText = query.get("step");
        const steps = await logSizes(found);
        // As `conductor logs`: where the workspace stopped (or is), else the agent's, else any.
        const preferred = defaultLogStep(found.state);
        const step =
          stepText !== null
            ? parseLogStep(stepText)
            : steps.some((entry) => entry.step === preferred)
              ? preferred
              : steps.at(-1)?.step;
        const beforeText = query.get("before");
        const before = beforeText === null ? undefined : Number(beforeText);
        if (before !== undefined && !(Number.isInteger(before) && before >= 0))
          throw new HttpError(400, `before=${beforeText} is not a byte offset`);
        reply(200, {
          steps,
          slice: step === undefined ? undefined : await logSlice(found, step, before, redactor),
        });
        return;
      }
      default:
        throw new HttpError(404, `no such route: ${route}`);
    }
  }

  /** Runs an action; one at a time per workspace. */
  private async act(found: FoundWorkspace, action: string, input: ActionInput): Promise<unknown> {
    const { runId } = found.run;
    const name = found.workspace.name;
    if (action === "serve-start") return this.serves.start(found);
    if (action === "serve-stop") return this.serves.stop(runId, name);
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new HttpError(
        404,
        `no action ${action}: use ${[...ACTIONS, "serve-start", "serve-stop"].join(", ")}`,
      );
    }
    const args = actionArgs(action as ActionName, name, runId, input);
    const key = `${runId}\0${name}`;
    const other = this.busy.get(key);
    if (other !== undefined) throw new HttpError(409, `${name} is busy: ${other} is running on it`);
    this.busy.set(key, action);
    this.refresh(runId, name);
    const work = runCli(this.options.launcher, found, args, { signal: this.actions.signal });
    this.running.add(work);
    try {
      return await work;
    } finally {
      this.running.delete(work);
      this.busy.delete(key);
      const entry = this.feeds.get(runId);
      // The command may have written events (archive, continue): read them before the row goes.
      await entry?.feed.poke();
      this.refresh(runId, name);
    }
  }

  private stream(request: IncomingMessage, response: ServerResponse, feed: RunFeed): void {
    response.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
    });
    response.write("retry: 1000\n\n");
    const lastId = request.headers["last-event-id"];
    const after = typeof lastId === "string" && /^\d+$/.test(lastId) ? Number(lastId) : undefined;
    // Each message is redacted with the secrets known when it is sent, as every other answer is:
    // a stream stays open for hours, and the run learns secrets meanwhile (a workspace's copied
    // env file, a value written into one). Messages that come while the secrets are being read
    // wait for them, in order, and share one reading.
    const waiting: string[] = [];
    let sending = false;
    const send = async () => {
      sending = true;
      try {
        while (waiting.length > 0) {
          const redactor = await reportRedactor(feed.current());
          for (const text of waiting.splice(0)) {
            if (!response.writableEnded) response.write(redactor.redact(text));
          }
        }
      } catch {
        // Secrets that cannot be read: nothing more is sent unredacted; the page reconnects.
        response.end();
      } finally {
        sending = false;
      }
    };
    const unsubscribe = feed.subscribe((text) => {
      waiting.push(text);
      if (!sending) void send();
    }, after);
    const heartbeat = setInterval(() => response.write(": alive\n\n"), 15_000);
    heartbeat.unref();
    this.streams.add(response);
    request.socket.setNoDelay(true);
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      this.streams.delete(response);
    };
    response.on("close", end);
  }

  private runIdOf(query: URLSearchParams): string {
    const requested = query.get("run");
    return requested === null || requested === ""
      ? this.options.runId
      : resolveRunId(this.options.root, requested);
  }

  private async feedOf(
    runId: string,
  ): Promise<{ feed: RunFeed; marks: ReviewMarks; timeline: TimelineLog }> {
    const known = this.feeds.get(runId);
    if (known !== undefined) return known;
    const marks = new ReviewMarks();
    const { eventsFile } = new RunPaths(this.options.root, runId);
    const timeline = new TimelineLog(eventsFile, TIMELINE_LIMIT);
    const feed = new RunFeed({
      eventsFile,
      extras: (name) => this.extras(runId, name),
    });
    const scan = async () => {
      const state = feed.current();
      if (state === undefined) return;
      for (const name of await marks.scan(state)) feed.refresh(name);
    };
    const timer = setInterval(() => void scan(), EXTRAS_SCAN_MS);
    timer.unref();
    const entry = { feed, marks, timeline, timer };
    this.feeds.set(runId, entry);
    await feed.start();
    await scan();
    return entry;
  }

  private extras(runId: string, name: string): WorkspaceExtras {
    return {
      review: this.feeds.get(runId)?.marks.get(name),
      servedPort: this.serves.portOf(runId, name),
      busy: this.busy.get(`${runId}\0${name}`),
    };
  }

  private refresh(runId: string, name: string): void {
    this.feeds.get(runId)?.feed.refresh(name);
  }

  private async workspace(runId: string, name: string): Promise<FoundWorkspace> {
    const { feed } = await this.feedOf(runId);
    const run = feed.current();
    const workspace = run?.plan.workspaces.find((entry) => entry.name === name);
    const state = run?.workspaces[name];
    if (run === undefined || workspace === undefined || state === undefined) {
      throw new HttpError(404, `run ${runId} has no workspace ${name}`);
    }
    return { run, workspace, state };
  }

  private async sendFile(response: ServerResponse, file: string): Promise<void> {
    const info = await stat(file).catch(() => undefined);
    if (info === undefined || !info.isFile())
      throw new HttpError(404, `no such file: ${path.basename(file)}`);
    response.writeHead(200, {
      "Content-Type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream",
      "Content-Length": info.size,
    });
    await new Promise<void>((resolve) => {
      createReadStream(file)
        .on("error", () => resolve())
        .on("end", resolve)
        .pipe(response);
    });
  }

  async close(server: Server): Promise<void> {
    this.actions.abort();
    await Promise.allSettled([...this.running, this.serves.stopAll()]);
    for (const { feed, timer } of this.feeds.values()) {
      clearInterval(timer);
      feed.stop();
    }
    for (const response of this.streams) response.end();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** A workspace name of a URL; a broken escape is the request's fault, not the server's (500). */
function decodeName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400, `${text} is not a workspace name (a broken %-escape)`);
  }
}

async function readJson(request: IncomingMessage): Promise<ActionInput> {
  const type = request.headers["content-type"] ?? "";
  // A cross-site form cannot send JSON without a preflight, which the origin check refuses.
  if (!type.startsWith("application/json")) throw new HttpError(415, "actions take a JSON body");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "the request is too large");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  let data: unknown;
  try {
    data = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new HttpError(400, "the request body is not JSON");
  }
  const record = (data ?? {}) as Record<string, unknown>;
  return {
    text: typeof record.text === "string" ? record.text : undefined,
    force: record.force === true,
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  sendText(response, status, JSON.stringify(body));
}

/** JSON of a run's data, its secrets redacted (as JSON escapes them, too). */
function sendRedactedJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  redactor: Redactor,
): void {
  sendText(response, status, redactor.redact(JSON.stringify(body)));
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(text);
}
