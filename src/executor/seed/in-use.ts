import { createHash, randomBytes } from "node:crypto";
import { rmSync, utimesSync, writeFileSync } from "node:fs";
import { mkdir, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { lockIsHeld } from "../../fs/lock-with-holder.js";
import { holderIsGone, holderIsVisible, isHolder, thisProcess } from "../../process/holder.js";
import { entryPaths, LOCK_OPTIONS } from "./cache.js";

/**
 * Who uses a cache entry, so that nothing removes it from under them:
 *
 *   <repo dir>/<key>.in-use.<pid>.<random>  a process placing the entry's folders (its holder)
 *   <repo dir>/<key>/links/<hash>.json      a workspace folder placed as a symbolic link into it
 *
 * A placement marks the entry, then checks that no process holds the key's lock and that the
 * entry is still there. Whatever removes an entry (`cache clean`, a fill replacing a damaged or
 * changed one) takes that lock first, then reads the marks, and removes the entry only once no
 * live process marked it. Whichever of the two comes second sees the other: a placement that
 * marked after the remover read the marks finds the lock held or, the remover done, the entry
 * gone. A link record outlives the placement: removing the entry would leave that workspace's
 * folder pointing nowhere, which `cache clean` does only when forced.
 */

/** A live process placing from an entry, as its mark names it. */
export interface EntryUser {
  pid: number;
  /** The mark's file. */
  mark: string;
  /** On another machine or in another container: conductor cannot tell whether it still runs. */
  unseen: boolean;
}

interface Mark {
  file: string;
  /** Placements of this process holding it. */
  users: number;
  /** Whether the file was written (not in a cache this user may only read). */
  written: boolean;
}

/** This process's marks, by entry folder: placements that overlap share one. */
const marksOfThisProcess = new Map<string, Mark>();

/** A mark nobody can read after this long is that of a process killed while writing it. */
const UNREADABLE_MARK_STALE_MS = 60_000;

const MARK_INFIX = ".in-use.";

/**
 * Marks the entry of `key` in use for a placement: resolves with the function that ends the use,
 * or undefined when the entry is gone or being removed (the caller gets it again, filled anew if
 * need be). Its cost is counted (the benchmark's per-workspace CPU): the mark is one file per
 * process while its placements overlap, the lock is looked at with one lstat, and the touch of the
 * entry is the one that tells `cache list` when it was last used; all synchronous, as a trip
 * through the thread pool costs several times these system calls.
 */
export async function holdEntry(repoDir: string, key: string): Promise<(() => void) | undefined> {
  const paths = entryPaths(repoDir, key);
  const mark = marksOfThisProcess.get(paths.dir) ?? newMark(paths.dir);
  if (mark === undefined) return undefined;
  mark.users++;
  const end = () => {
    if (--mark.users > 0) return;
    marksOfThisProcess.delete(paths.dir);
    if (mark.written) rmSync(mark.file, { force: true });
  };
  if (!(await lockIsHeld(paths.lockTarget, LOCK_OPTIONS.stale)) && touch(paths.dir)) return end;
  end();
  return undefined;
}

/** This process's new mark of the entry at `dir`; undefined when the entry's folder is gone. */
function newMark(dir: string): Mark | undefined {
  // Named anew each time, as lock holders are: no process ever takes another's mark for its own.
  const file = `${dir}${MARK_INFIX}${process.pid}.${randomBytes(4).toString("hex")}`;
  ownHolder ??= JSON.stringify(thisProcess());
  let written = true;
  try {
    writeFileSync(file, ownHolder, { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    // A cache this user may only read is placed from unmarked, as before: this user cannot
    // remove from it either.
    if (!readOnly(error)) throw error;
    written = false;
  }
  const mark: Mark = { file, users: 0, written };
  marksOfThisProcess.set(dir, mark);
  return mark;
}

/** The holder, as lock-with-holder.ts names one: pid, start time, pid space. */
let ownHolder: string | undefined;

/** Touches the entry's folder: false when it is gone. */
function touch(dir: string): boolean {
  const now = new Date();
  try {
    utimesSync(dir, now, now);
    return true;
  } catch (error) {
    // Only the owner may set the time of a shared cache's folder: it is there all the same.
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

/**
 * The live processes that marked the entry of `key` in use; the marks of processes surely gone (a
 * conductor killed while placing) are removed. Read by a remover holding the key's lock.
 */
export async function entryUsers(repoDir: string, key: string): Promise<EntryUser[]> {
  const prefix = `${key}${MARK_INFIX}`;
  const users: EntryUser[] = [];
  for (const name of await readdir(repoDir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const mark = path.join(repoDir, name);
    const user = await readMark(mark);
    if (user === undefined) await rm(mark, { force: true });
    else users.push(user);
  }
  return users;
}

/** The process a mark names, or undefined when it is surely gone. */
async function readMark(mark: string): Promise<EntryUser | undefined> {
  let holder: unknown;
  try {
    holder = JSON.parse(await readFile(mark, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    // Being written (it is created empty): a placement may be under way.
    const info = await stat(mark).catch(() => undefined);
    if (info === undefined || info.mtimeMs < Date.now() - UNREADABLE_MARK_STALE_MS)
      return undefined;
    return { pid: Number(path.basename(mark).split(".")[2]), mark, unseen: false };
  }
  if (!isHolder(holder) || holderIsGone(holder)) return undefined;
  return { pid: holder.pid, mark, unseen: !holderIsVisible(holder) };
}

/**
 * Records that the workspace folder `link` is to be a symbolic link to `target`, a folder of the
 * entry of `key`: `cache clean` then names the workspaces whose folder removing the entry would
 * leave pointing nowhere. Written while the entry is held, before the link is made.
 */
export async function recordLink(
  repoDir: string,
  key: string,
  link: string,
  target: string,
): Promise<void> {
  const dir = entryPaths(repoDir, key).links;
  const name = `${createHash("sha256").update(link).digest("hex").slice(0, 16)}.json`;
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, name), `${JSON.stringify({ link, target })}\n`);
  } catch (error) {
    if (!readOnly(error)) throw error;
  }
}

/** The workspace folders that are symbolic links into the entry of `key` still. */
export async function linksInto(repoDir: string, key: string): Promise<string[]> {
  const dir = entryPaths(repoDir, key).links;
  const links: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    try {
      const { link, target } = JSON.parse(await readFile(path.join(dir, name), "utf8"));
      // A workspace removed (archive, clean) or its folder replaced no longer needs the entry.
      if ((await readlink(link)) === target) links.push(link);
    } catch {
      // The link is gone, or the record is not one.
    }
  }
  return links.sort();
}

/** Whether a write failed because this user may only read the cache. */
function readOnly(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "EACCES" || code === "EPERM" || code === "EROFS";
}
