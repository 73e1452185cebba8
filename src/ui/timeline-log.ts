import { open } from "node:fs/promises";
import type { RunEvent } from "../executor/events.js";
import { eventWorkspace, type TimelineEntry, timelineEntry } from "./views.js";

/**
 * The Activity tab's entries of one run, read from `events.jsonl` as it grows: each request reads
 * what was appended since the last one, never the whole log again (a run of many agents writes
 * tens of MB of events, and the page asks every few seconds). Lines are cut at their newline
 * byte, which no UTF-8 character holds, so no character is split; a last line still being
 * written is read as it stands, as a whole read would, and read again once it is complete.
 * Entries are kept as the log holds them: the page's answer is redacted when it is sent, with
 * the secrets known then.
 */

/** Bytes read at a time. */
const CHUNK_BYTES = 1024 * 1024;
/** Bytes before the read offset compared at each read, to tell an append from a rewrite. */
const MARK_BYTES = 4096;

/** The newest entries of a workspace, and how many older ones were left out. */
export interface TimelinePart {
  entries: TimelineEntry[];
  omitted: number;
}

interface Kept {
  /** The newest entries, at least `limit` of them when there are that many. */
  entries: TimelineEntry[];
  /** Entries ever read for the workspace. */
  count: number;
}

/** One run's timelines, following its log. */
export class TimelineLog {
  /** Byte offset just past the last complete line read. */
  private offset = 0;
  /** The bytes just before {@link offset}, as read. */
  private mark = Buffer.alloc(0);
  private inode: number | undefined;
  private byWorkspace = new Map<string, Kept>();
  /** What follows the last complete line (a line being written), read at the last update. */
  private tail: { event: RunEvent }[] = [];
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly eventsFile: string,
    /** Entries sent at once per workspace (the newest). */
    private readonly limit: number,
  ) {}

  /** The newest entries of `name` as the log holds them now. */
  async entriesOf(name: string): Promise<TimelinePart> {
    // One read at a time: a second request waits for the first and then reads what came since.
    this.reading = this.reading.then(
      () => this.update(),
      () => this.update(),
    );
    await this.reading;
    const kept = this.byWorkspace.get(name);
    const entries = [...(kept?.entries ?? [])];
    let count = kept?.count ?? 0;
    for (const { event } of this.tail) {
      const entry = entryOf(event, name);
      if (entry === undefined) continue;
      entries.push(entry);
      count += 1;
    }
    const shown = entries.slice(Math.max(0, entries.length - this.limit));
    return { entries: shown, omitted: count - shown.length };
  }

  private async update(): Promise<void> {
    const handle = await open(this.eventsFile, "r").catch(() => undefined);
    if (handle === undefined) {
      this.reset();
      return;
    }
    try {
      const info = await handle.stat();
      if (!(await this.appendedTo(handle, info.ino, info.size))) this.reset();
      this.inode = info.ino;
      let pending = Buffer.alloc(0);
      let position = this.offset;
      // What was appended, up to a chunk: a poll with little new reads into a little buffer.
      const buffer = Buffer.allocUnsafe(
        Math.max(1, Math.min(CHUNK_BYTES, info.size - this.offset)),
      );
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const chunk = Buffer.concat([pending, buffer.subarray(0, bytesRead)]);
        const end = chunk.lastIndexOf(0x0a);
        if (end < 0) {
          pending = chunk;
          continue;
        }
        this.consume(chunk.subarray(0, end + 1));
        pending = Buffer.from(chunk.subarray(end + 1));
      }
      this.tail = parsed(pending.toString("utf8"));
    } finally {
      await handle.close();
    }
  }

  /** Whether the file is the one read so far, grown or as it was (not replaced, cut or rewritten). */
  private async appendedTo(
    handle: Awaited<ReturnType<typeof open>>,
    inode: number,
    size: number,
  ): Promise<boolean> {
    if (this.offset === 0) return true;
    if (inode !== this.inode || size < this.offset) return false;
    const now = Buffer.alloc(this.mark.length);
    const { bytesRead } = await handle.read(now, 0, now.length, this.offset - this.mark.length);
    return bytesRead === now.length && now.equals(this.mark);
  }

  /** Folds complete lines (`bytes` ends with a newline) into the kept entries. */
  private consume(bytes: Buffer): void {
    for (const { event } of parsed(bytes.toString("utf8"))) {
      const name = safely(() => eventWorkspace(event));
      if (name === undefined) continue;
      const entry = entryOf(event, name);
      if (entry === undefined) continue;
      let kept = this.byWorkspace.get(name);
      if (kept === undefined) {
        kept = { entries: [], count: 0 };
        this.byWorkspace.set(name, kept);
      }
      kept.entries.push(entry);
      kept.count += 1;
      if (kept.entries.length >= 2 * this.limit)
        kept.entries.splice(0, kept.entries.length - this.limit);
    }
    this.offset += bytes.length;
    const kept = Math.min(MARK_BYTES, bytes.length);
    this.mark = Buffer.concat([this.mark, bytes.subarray(bytes.length - kept)]);
    this.mark = Buffer.from(this.mark.subarray(Math.max(0, this.mark.length - MARK_BYTES)));
  }

  private reset(): void {
    this.offset = 0;
    this.mark = Buffer.alloc(0);
    this.inode = undefined;
    this.byWorkspace = new Map();
    this.tail = [];
  }
}

/** The events of JSON lines, as `readEvents` reads them: blank and torn lines skipped. */
function parsed(text: string): { event: RunEvent }[] {
  const events: { event: RunEvent }[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      events.push({ event: JSON.parse(line) as RunEvent });
    } catch {
      // A line torn by a killed conductor (ended by the next append), or one still being written.
    }
  }
  return events;
}

/** The entry of `event` on `name`'s timeline; none for a line that is not an event of it. */
function entryOf(event: RunEvent, name: string): TimelineEntry | undefined {
  // A line written by something else (`null`, an activity without its fields) is not an event.
  return safely(() => (eventWorkspace(event) === name ? timelineEntry(event) : undefined));
}

function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
