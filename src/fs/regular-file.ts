import { constants } from "node:fs";
import { lstat, open, rm, stat } from "node:fs/promises";
import { OperationError } from "../errors.js";

/**
 * Files an agent may have tampered with. Opening a FIFO for reading (or writing) waits for the
 * other end, forever, in a thread Ctrl-C cannot free; a socket or device is no better. So a file
 * of a worktree is looked at before it is opened, opened without blocking, and used only when it
 * is a regular file.
 */

/** What a path is, for messages: `a FIFO`, `a directory`. */
export type FileKind = "file" | "directory" | "symlink" | "FIFO" | "socket" | "device" | "missing";

/** What `file` itself is (a symlink is not followed). */
export async function kindOf(file: string): Promise<FileKind> {
  const info = await lstat(file).catch(() => undefined);
  return info === undefined ? "missing" : kindOfStats(info);
}

/** What `file` is once symlinks are followed (`missing` for a dangling link). */
export async function targetKindOf(file: string): Promise<FileKind> {
  const info = await stat(file).catch(() => undefined);
  return info === undefined ? "missing" : kindOfStats(info);
}

/** `a FIFO`, `a directory`, … for a message. */
export function describeKind(kind: FileKind): string {
  return kind === "missing" ? "missing" : `a ${kind}`;
}

/**
 * A file's text, or undefined when it is missing or not a regular file (symlinks are followed).
 * Opened with O_NONBLOCK and checked before reading, so a FIFO never blocks.
 */
export async function readRegularFile(file: string): Promise<string | undefined> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    return await handle.readFile("utf8");
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

/**
 * Makes way for a file to be written at `file`: a FIFO, socket or device there (which a write
 * would block on or go into) is removed; a directory is refused. Regular files and symlinks are
 * left for the caller to handle.
 */
export async function clearSpecialFile(file: string): Promise<void> {
  const kind = await kindOf(file);
  if (kind === "FIFO" || kind === "socket" || kind === "device") await rm(file, { force: true });
  else if (kind === "directory") throw new OperationError(`${file} is a directory, not a file`);
}

function kindOfStats(info: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
}): FileKind {
  if (info.isFile()) return "file";
  if (info.isDirectory()) return "directory";
  if (info.isSymbolicLink()) return "symlink";
  if (info.isFIFO()) return "FIFO";
  if (info.isSocket()) return "socket";
  return "device";
}
