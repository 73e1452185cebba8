import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync } from "node:fs";
import type { Redactor } from "./redact.js";
import { SEARCH_PIECE_BYTES, SecretSearch, secretsInBytes } from "./secret-search.js";

/**
 * The secrets of `redactor` that the file at `file` holds, as git would commit it: a regular
 * file's content, read {@link SEARCH_PIECE_BYTES} at a time; a symlink's own text (what git
 * stores for it), never what it points to. Nothing for a directory, a FIFO, a socket, a device
 * (opened without blocking and never read), a missing file or one larger than `maxBytes` (the
 * commit refuses those anyway). Synchronous, like the other looks at a worktree's files: a
 * system call or two on a small local file costs less than a trip through libuv's thread pool
 * (see src/fs/regular-file.ts).
 */
export function secretsInFile(file: string, redactor: Redactor, maxBytes: number): string[] {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ELOOP" ? secretsInLink(file, redactor) : [];
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > maxBytes || info.size === 0) return [];
    const search = new SecretSearch(redactor);
    const buffer = Buffer.allocUnsafe(Math.min(info.size, SEARCH_PIECE_BYTES));
    // Up to the size seen: a file still growing is not read past the limit.
    for (let left = info.size; left > 0; ) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, left), null);
      if (read === 0) break;
      search.write(buffer.subarray(0, read));
      left -= read;
    }
    return search.end();
  } catch {
    return [];
  } finally {
    closeSync(fd);
  }
}

function secretsInLink(file: string, redactor: Redactor): string[] {
  try {
    return secretsInBytes(readlinkSync(file, { encoding: "buffer" }), redactor);
  } catch {
    return [];
  }
}
