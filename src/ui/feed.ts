import { type FSWatcher, watch } from "node:fs";
import { open } from "node:fs/promises";
import type { RunEvent } from "../executor/events.js";
import { abandoned, isConductorAlive } from "../executor/load-run.js";
import { eventProblem } from "../executor/record-check.js";
import { applyEvent, initialRunState } from "../executor/state-fold.js";
import type { RunState } from "../executor/types.js";
import {
  eventWorkspace,
  pageState,
  runSummary,
  timelineEntry,
  type WorkspaceExtras,
  workspaceRow,
} from "./views.js";

/**
 * The live feed of one run for the page: tails `events.jsonl`, folds each event with the
 * executor's own fold, and hands subscribers server-sent-event messages: the page state once,
 * then one update per event. A message's id is the byte offset of the log it reflects, so a
 * reconnecting page (`Last-Event-ID`) gets exactly the updates it missed.
 */

/** How often the log is looked at when no change notification came (network file systems). */
const POLL_MS = 500;
/** How often a running run's conductor is checked for life (a killed one leaves no event). */
const LIFE_CHECK_MS = 1000;
/** Updates kept for pages that reconnect; one further behind gets the whole state again. */
const HISTORY_LIMIT = 20_000;

/** One server-sent event, ready to write. */
export interface FeedMessage {
  id: number;
  kind: "state" | "update";
  text: string;
}

/** A subscriber: receives SSE text. */
export type FeedListener = (text: string) => void;

/** What a feed needs. */
export interface FeedOptions {
  eventsFile: string;
  /** Facts beside the events (review verdict, winner, served port), looked up when a row is sent. */
  extras(name: string): WorkspaceExtras;
}

/** One run's feed, shared by every page that watches it. */
export class RunFeed {
  private state: RunState | undefined;
  private offset = 0;
  private pending = Buffer.alloc(0);
  private readonly history: FeedMessage[] = [];
  private readonly listeners = new Set<FeedListener>();
  private watcher: FSWatcher | undefined;
  private timers: NodeJS.Timeout[] = [];
  private reading: Promise<void> = Promise.resolve();
  private again = false;
  /** Whether the conductor working on the run lives, as last looked at. */
  private alive = true;
  private alivePid: number | undefined;
  /** The first read builds no messages: no page is connected yet. */
  private loading = true;
  private stopped = false;

  constructor(private readonly options: FeedOptions) {}

  /** Reads the log as it is and starts following it. */
  async start(): Promise<void> {
    await this.poke();
    this.loading = false;
    this.timers.push(setInterval(() => void this.poke(), POLL_MS));
    this.timers.push(setInterval(() => this.checkLife(), LIFE_CHECK_MS));
    for (const timer of this.timers) timer.unref();
  }

  /** Stops following; subscribers get nothing more. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.watcher?.close();
    this.watcher = undefined;
    this.listeners.clear();
  }

  /** The state as the page shows it: a run whose conductor died is interrupted. */
  current(): RunState | undefined {
    const state = this.state;
    if (state === undefined) return undefined;
    if (this.alivePid !== state.pid) {
      this.alivePid = state.pid;
      this.alive = isConductorAlive(state.pid);
    }
    return state.status === "running" && !this.alive ? abandoned(state) : state;
  }

  /** Byte offset of the log read so far. */
  get position(): number {
    return this.offset;
  }

  /**
   * Subscribes `listener`: with `after` (a Last-Event-ID this feed gave), the updates since;
   * else the whole page state first. Returns the unsubscribe function.
   */
  subscribe(listener: FeedListener, after?: number): () => void {
    const first = this.history[0];
    const resumable =
      after !== undefined &&
      after <= this.offset &&
      (after === this.offset ||
        (first !== undefined && (first.id <= after || first.kind === "state")));
    if (resumable) {
      for (const message of this.history) if (message.id > after) listener(message.text);
    } else {
      listener(this.stateMessage().text);
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends a workspace's row again (its review, winner mark or served port changed). */
  refresh(name: string): void {
    const state = this.current();
    if (state === undefined) return;
    const row = workspaceRow(state, name, this.options.extras(name));
    if (row !== undefined) this.broadcast("update", { run: runSummary(state), row });
  }

  /** Reads what was appended since the last read; concurrent calls coalesce. */
  poke(): Promise<void> {
    this.again = true;
    this.reading = this.reading.then(async () => {
      while (this.again) {
        this.again = false;
        await this.readMore();
      }
    });
    return this.reading;
  }

  /** Watches the log once it exists (a change notification reads it at once). */
  private watchFile(): void {
    if (this.watcher !== undefined || this.stopped) return;
    try {
      this.watcher = watch(this.options.eventsFile, () => void this.poke());
      this.watcher.on("error", () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // Not there yet (a run about to start): the poll reads it, and watches it then.
      this.watcher = undefined;
    }
  }

  private async readMore(): Promise<void> {
    const handle = await open(this.options.eventsFile, "r").catch(() => undefined);
    if (handle === undefined) return;
    this.watchFile();
    try {
      const buffer = Buffer.alloc(256 * 1024);
      for (;;) {
        const position = this.offset + this.pending.length;
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) return;
        this.consume(Buffer.concat([this.pending, buffer.subarray(0, bytesRead)]));
      }
    } finally {
      await handle.close();
    }
  }

  /** Folds every complete line of `chunk` (which starts at `offset`); keeps a torn tail. */
  private consume(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(0x0a, start);
      if (end < 0) break;
      const line = chunk.subarray(start, end).toString("utf8");
      start = end + 1;
      this.offset += Buffer.byteLength(line) + 1;
      if (line.trim() === "") continue;
      let event: RunEvent;
      try {
        event = JSON.parse(line) as RunEvent;
      } catch {
        continue; // a line torn by a killed conductor, ended by the next one's append
      }
      this.apply(event);
    }
    this.pending = Buffer.from(chunk.subarray(start));
  }

  private apply(event: RunEvent): void {
    // A value conductor does not know (a forged line) would reach the page's switches: skipped,
    // as the CLI's commands refuse the whole record for it.
    if (eventProblem(event) !== undefined) return;
    if (this.state === undefined) {
      if (event.type !== "run.started") return;
      this.state = initialRunState({
        runId: event.runId,
        plan: event.plan,
        createdAt: event.time,
        pid: event.pid,
      });
    }
    try {
      this.state = applyEvent(this.state, event);
    } catch {
      return; // an event that belongs to no workspace of this plan: the CLI's fold refuses it too
    }
    if (this.loading) return;
    const name = eventWorkspace(event);
    const runLevel =
      event.type === "run.started" ||
      event.type === "run.finished" ||
      event.type === "follow-up.started" ||
      event.type === "follow-up.finished";
    if (runLevel || name === undefined) {
      this.broadcast("state", pageState(this.current() as RunState, this.options.extras));
      return;
    }
    const state = this.current() as RunState;
    this.broadcast("update", {
      run: runSummary(state),
      row:
        event.type === "step.output"
          ? undefined
          : workspaceRow(state, name, this.options.extras(name)),
      workspace: name,
      entry: timelineEntry(event),
    });
  }

  /** A running run whose conductor died shows as interrupted, and back when a resume starts. */
  private checkLife(): void {
    if (this.state?.status !== "running") return;
    const alive = isConductorAlive(this.state.pid);
    if (alive === this.alive) return;
    this.alive = alive;
    this.broadcast("state", pageState(this.current() as RunState, this.options.extras));
  }

  private stateMessage(): FeedMessage {
    const state = this.current();
    return message(
      this.offset,
      "state",
      state === undefined ? null : pageState(state, this.options.extras),
    );
  }

  private broadcast(kind: "state" | "update", data: unknown): void {
    const sent = message(this.offset, kind, data);
    // A new state makes every earlier message moot for a page that resumes after it.
    if (kind === "state" || this.history.length >= HISTORY_LIMIT) this.history.length = 0;
    this.history.push(sent);
    for (const listener of this.listeners) listener(sent.text);
  }
}

function message(id: number, kind: "state" | "update", data: unknown): FeedMessage {
  return { id, kind, text: `id: ${id}\nevent: ${kind}\ndata: ${JSON.stringify(data)}\n\n` };
}
