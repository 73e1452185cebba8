import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";

/** How much of one program's output a log keeps: its beginning, then its last {@link LOG_TAIL_BYTES}. */
export const MAX_LOG_BYTES = 64 * 1024 * 1024;
/** The end of the output a log always keeps (where a program says why it stopped). */
export const LOG_TAIL_BYTES = 1024 * 1024;

/**
 * A program's log file, written synchronously: each chunk of output is one `write` to a local file
 * (tens of microseconds), where a file stream sends its open, every write and its close through
 * libuv's thread pool, at 30 to 110 µs of CPU a trip (measured, Node 20). A chunk is written
 * before the next is taken, so a program that prints a lot is held back as by any stream.
 *
 * A program that prints without end (an agent in a loop) must not fill the disk: past `maxBytes`
 * the log keeps the beginning and the last `tailBytes`, with a line saying how much was left out
 * between them.
 */
export class LogFile extends Writable {
  private readonly fd: number;
  private fdClosed = false;
  private readonly headBytes: number;
  private readonly tailBytes: number;
  private written = 0;
  /** The newest output past the head, at most `tailBytes` of it once trimmed. */
  private tail: Buffer[] = [];
  private tailLength = 0;
  /** Output past the head that is no longer in `tail`. */
  private leftOut = 0;

  /** Opens `file` for appending (its folder made if need be); throws if it cannot. */
  constructor(
    file: string,
    limits: { maxBytes: number; tailBytes: number } = {
      maxBytes: MAX_LOG_BYTES,
      tailBytes: LOG_TAIL_BYTES,
    },
  ) {
    super({ decodeStrings: true });
    this.tailBytes = limits.tailBytes;
    this.headBytes = limits.maxBytes - limits.tailBytes;
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = openSync(file, "a");
  }

  /**
   * The first write that failed (a full disk). What comes after is dropped, not refused: an error
   * here would stop the program's output from being read (it would block on a full pipe) or, with
   * nobody listening, end conductor; a log that lost its end is the lesser harm.
   */
  failure: Error | undefined;

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    const room = Math.max(0, this.headBytes - this.written);
    this.writeOut(room >= chunk.length ? chunk : chunk.subarray(0, room));
    if (room < chunk.length) this.keepTail(chunk.subarray(room));
    done();
  }

  private writeOut(bytes: Buffer): void {
    if (this.failure !== undefined || bytes.length === 0) return;
    try {
      for (let written = 0; written < bytes.length; )
        written += writeSync(this.fd, bytes, written, bytes.length - written);
      this.written += bytes.length;
    } catch (error) {
      this.failure = error as Error;
    }
  }

  /** Keeps `bytes` as the newest of the tail, dropping its oldest past `tailBytes`. */
  private keepTail(bytes: Buffer): void {
    this.tail.push(bytes);
    this.tailLength += bytes.length;
    while (
      this.tail.length > 1 &&
      this.tailLength - (this.tail[0]?.length ?? 0) >= this.tailBytes
    ) {
      const oldest = this.tail.shift() as Buffer;
      this.tailLength -= oldest.length;
      this.leftOut += oldest.length;
    }
  }

  /** Writes the kept tail after a line saying how much was left out before it. */
  private writeTail(): void {
    if (this.tailLength === 0) return;
    let tail = Buffer.concat(this.tail);
    if (tail.length > this.tailBytes) {
      this.leftOut += tail.length - this.tailBytes;
      tail = tail.subarray(tail.length - this.tailBytes);
    }
    if (this.leftOut > 0) {
      this.writeOut(
        Buffer.from(
          `\n[conductor: ${this.leftOut} bytes of output left out here; a log keeps the first ${this.headBytes} and the last ${this.tailBytes}]\n`,
        ),
      );
    }
    this.writeOut(tail);
    this.tail = [];
    this.tailLength = 0;
  }

  override _final(done: (error?: Error) => void): void {
    try {
      this.writeTail();
      this.closeOnce();
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  /** Also when the stream is destroyed before its end, when _final never comes. */
  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    try {
      this.closeOnce();
    } catch {
      // the error that destroyed the stream is the one worth reporting
    }
    done(error);
  }

  /** Closes the file the first time only: a descriptor closed twice may be another file's by then. */
  private closeOnce(): void {
    if (this.fdClosed) return;
    this.fdClosed = true;
    closeSync(this.fd);
  }

  /** Ends the log: resolves once everything written is in the file and it is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => this.end(resolve));
  }
}
