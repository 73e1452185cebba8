import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  rmSync,
  type Stats,
  statSync,
} from "node:fs";
import { OperationError } from "../errors.js";

/**
 * Files an agent may have tampered with. Opening a FIFO for reading (or writing) waits for the
 * other end, forever; a socket or device is no better. So a file of a worktree is looked at before
 * it is opened, opened without blocking, and used only when it is a regular file.
 *
 * These run synchronously: each is a system call or two on a small local file, done on the path of
 * every workspace, and a trip through libuv's thread pool cost 30 to 110 µs of CPU where the call
 * itself cost 2 to 6 (measured on Node 20, 2 cores).
 */

/** What a path is, for messages: `a FIFO`, `a directory`. */
export type FileKind = "file" | "directory" | "symlink" | "FIFO" | "socket" | "device" | "missing";

/** What `file` itself is (a symlink is not followed). */
export async function kindOf(file: string): Promise<FileKind> {
  const info = entryStats(file);
  return info === undefined ? "missing" : kindOfStats(info);
}

/** `file`'s own lstat (a symlink is not followed), or undefined when there is nothing to see. */
export function entryStats(file: string): Stats | undefined {
  return quietly(() => lstatSync(file));
}

/** What `file` is once symlinks are followed (`missing` for a dangling link). */
export async function targetKindOf(file: string): Promise<FileKind> {
  const info = quietly(() => statSync(file));
  return info === undefined ? "missing" : kindOfStats(info);
}

/** A stat's answer, or undefined when it failed (missing, a dangling link, no permission). */
function quietly(look: () => Stats): Stats | undefined {
  try {
    return look();
  } catch {
    return undefined;
  }
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
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    return readFileSync(fd, "utf8");
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes way for a new file at `file`, to be made exclusively (`COPYFILE_EXCL`, `wx`): whatever is
 * there goes, a FIFO, socket or device (which a write would block on or go into) and a symlink
 * (which a write would follow, to a FIFO or out of the worktree) as much as a regular file. A
 * directory is refused.
 */
export async function clearForNewFile(file: string): Promise<void> {
  const kind = await kindOf(file);
  if (kind === "directory") throw new OperationError(`${file} is a directory, not a file`);
  if (kind !== "missing") rmSync(file, { force: true });
}

/** What a stat's answer describes. */
export function kindOfStats(info: {
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
