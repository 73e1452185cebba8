import { open, stat } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { sleep } from "../timers/sleep.js";

/** How often a followed file is checked for new output. */
export const FOLLOW_INTERVAL_MS = 150;

/** What {@link followFile} needs. */
export interface FollowOptions {
  /** Byte offset to start at (0: the whole file; its size: only what comes next). */
  from: number;
  write(text: string): void;
  /** Asked after each poll that found nothing new; true ends the follow (after a last read). */
  done(): boolean | Promise<boolean>;
  /** Ends the follow at once (Ctrl-C). */
  signal: AbortSignal;
  intervalMs?: number;
}

/**
 * Prints a file as it grows, like `tail -f`, until `done()` says the writer has finished or the
 * signal aborts. Polls instead of watching: logs live on any file system (also network mounts,
 * where change notifications never come), and a missing file simply has no output yet.
 */
export async function followFile(file: string, options: FollowOptions): Promise<void> {
  const decoder = new StringDecoder("utf8");
  let offset = options.from;
  const drain = async () => {
    offset = await readFrom(file, offset, (chunk) => options.write(decoder.write(chunk)));
  };
  while (!options.signal.aborted) {
    const before = offset;
    await drain();
    if (offset === before && (await options.done())) {
      // The writer may have written a last chunk between the read and the check.
      await drain();
      break;
    }
    await sleep(options.intervalMs ?? FOLLOW_INTERVAL_MS, options.signal);
  }
  const rest = decoder.end();
  if (rest !== "") options.write(rest);
}

/** Size of a file, 0 when it does not exist yet. */
export async function fileSize(file: string): Promise<number> {
  return (await stat(file).catch(() => undefined))?.size ?? 0;
}

/** Hands every byte after `offset` to `onChunk`; returns the new offset. */
async function readFrom(
  file: string,
  offset: number,
  onChunk: (chunk: Buffer) => void,
): Promise<number> {
  const handle = await open(file, "r").catch(() => undefined);
  if (handle === undefined) return offset;
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let position = offset;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return position;
      onChunk(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
