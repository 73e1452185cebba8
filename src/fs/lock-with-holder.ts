import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { readdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import lockfile from "proper-lockfile";
import { OperationError } from "../errors.js";
import { type Holder, holderIsGone, isHolder, thisProcess } from "../process/holder.js";
import { entryExists } from "./entry-exists.js";

/**
 * proper-lockfile's lock (an atomic mkdir of `<file>.lock`, touched while held, stale once left
 * untouched for `stale` ms) with its holder named inside it, in `holder-<unique id>`. A holder
 * killed with SIGKILL cannot remove its lock: a waiter that finds the holder surely gone takes the
 * lock over at once instead of waiting for it to go stale. Staleness stays for what cannot be told
 * that way: a holder on another machine or in another container, and an empty lock (an older
 * conductor's, or one whose holder died before it named itself), which proper-lockfile removes
 * itself as before.
 *
 * Taking over is safe among waiters racing for the same dead lock: the step that decides is the
 * rename of the holder's file within the lock, which succeeds for one waiter only and only while
 * the lock is still that holder's (the file's name is unique to it). The winner then moves the lock
 * aside whole. Nothing else removes a lock with a file in it: its holder is gone, and
 * proper-lockfile's own removal of a stale lock is an rmdir, which fails on it.
 */

export interface HolderLockOptions {
  /** How long a lock stays untouched before it counts as abandoned (proper-lockfile's `stale`). */
  stale: number;
  /**
   * How often a holder touches its lock (proper-lockfile's `update`; by default half of `stale`).
   * A lock held for longer than `stale` stays live only through it.
   */
  update?: number;
  /**
   * Called when the lock was taken from this holder while held (proper-lockfile's
   * `onCompromised`, which by default throws where nothing can catch it).
   */
  onCompromised?: (error: Error) => void;
}

export interface LockWithHolderOptions extends HolderLockOptions {
  /** How long to wait for a live holder before giving up. */
  waitMs: number;
}

/** The function that releases a lock. */
export type ReleaseLock = () => Promise<void>;

/** Name of the holder's file in the lock, and of that file once a waiter took the lock over. */
const HOLDER = "holder-";
const TAKEN = "taken-";

/** Pauses between tries while the lock is held: short first, as holders keep it briefly. */
const FIRST_POLL_MS = 10;
const LAST_POLL_MS = 100;

/**
 * Tries to take a gone holder's lock over at once this many times before a try reports the lock
 * held: each time another waiter was quicker.
 */
const TAKEOVER_TRIES = 3;

/** Locks `file` (through `<file>.lock`); resolves with the function that releases it. */
export async function lockWithHolder(
  file: string,
  options: LockWithHolderOptions,
): Promise<ReleaseLock> {
  const deadline = Date.now() + options.waitMs;
  for (let delay = FIRST_POLL_MS; ; delay = Math.min(delay * 2, LAST_POLL_MS)) {
    const release = await tryLockWithHolder(file, options);
    if (release !== undefined) return release;
    if (Date.now() >= deadline) {
      throw new OperationError(
        `${file} stayed locked by another conductor for ${Math.round(options.waitMs / 1000)} s`,
        { hint: `If no other conductor runs, remove ${lockDirOf(file)} and try again.` },
      );
    }
    await sleep(delay);
  }
}

/**
 * One try at the lock of `file`, for a caller that waits in its own way (a fill that may take
 * minutes, cancellable): the function that releases it, or undefined while another holder that
 * may be alive keeps it. A holder surely gone is taken over at once.
 */
export async function tryLockWithHolder(
  file: string,
  options: HolderLockOptions,
): Promise<ReleaseLock | undefined> {
  const lockDir = lockDirOf(file);
  for (let tries = 0; tries < TAKEOVER_TRIES; tries++) {
    try {
      return await lockfile.lock(file, {
        realpath: false,
        stale: options.stale,
        ...(options.update === undefined ? {} : { update: options.update }),
        ...(options.onCompromised === undefined ? {} : { onCompromised: options.onCompromised }),
        fs: namingFs(lockDir),
      });
    } catch (error) {
      // ENOTEMPTY (EEXIST on some systems): proper-lockfile found the lock stale and could not
      // rmdir it, as it is named.
      // ENOTDIR: something not a folder stands at the lock's path; waited for, then named.
      const code = (error as NodeJS.ErrnoException).code;
      if (!["ELOCKED", "ENOTEMPTY", "EEXIST", "ENOTDIR"].includes(code ?? "")) throw error;
    }
    if (!(await takeOverIfGone(lockDir, options.stale))) return undefined;
  }
  return undefined;
}

/**
 * Whether the lock of `file` is held by a holder that may be alive: it exists, and its holder is
 * not surely gone nor has it left the lock untouched for `stale` ms.
 */
export async function lockIsHeld(file: string, stale: number): Promise<boolean> {
  const lockDir = lockDirOf(file);
  // The usual answer in one system call, without a trip through the thread pool (which costs
  // several times more): asked before every seed placement.
  if (!entryExists(lockDir)) return false;
  let names: string[];
  try {
    names = await readdir(lockDir);
  } catch (error) {
    // Not a folder (a file in its place) is held as far as proper-lockfile is concerned.
    return (
      (error as NodeJS.ErrnoException).code !== "ENOENT" && !(await untouchedFor(lockDir, stale))
    );
  }
  const name = names.find((entry) => entry.startsWith(HOLDER));
  if (name !== undefined && isGone(await holderIn(path.join(lockDir, name)))) return false;
  return !(await untouchedFor(lockDir, stale));
}

/** As proper-lockfile names it (it resolves the path), so that the holder is named in it. */
function lockDirOf(file: string): string {
  return `${path.resolve(file)}.lock`;
}

/**
 * The file system proper-lockfile works through, naming this process in the lock right after the
 * mkdir that takes it: before proper-lockfile reads the lock's mtime, which it expects unchanged
 * afterwards. Releasing removes the name first, as rmdir needs an empty folder.
 */
function namingFs(lockDir: string): typeof fs {
  const own = path.join(lockDir, `${HOLDER}${randomUUID()}`);
  return {
    ...fs,
    mkdir: ((dir: string, done: (error: NodeJS.ErrnoException | null) => void) => {
      fs.mkdir(dir, (error) => {
        if (error !== null || dir !== lockDir) return done(error);
        // Unnamed, the lock still works; others then wait for it to go stale, as before.
        fs.writeFile(own, JSON.stringify(thisProcess()), { flag: "wx" }, () => done(null));
      });
    }) as typeof fs.mkdir,
    rmdir: ((dir: string, done: (error: NodeJS.ErrnoException | null) => void) => {
      if (dir !== lockDir) return fs.rmdir(dir, done);
      fs.unlink(own, () => fs.rmdir(dir, done));
    }) as typeof fs.rmdir,
    // proper-lockfile's clean-up on exit.
    rmdirSync: ((dir: string) => {
      if (dir === lockDir) fs.rmSync(own, { force: true });
      fs.rmdirSync(dir);
    }) as typeof fs.rmdirSync,
  };
}

/**
 * Takes over a lock whose holder is surely gone, or that nobody touched for `stale` ms although
 * named (proper-lockfile cannot remove those). True when the lock was released or taken over
 * meanwhile, so trying again may succeed at once.
 */
async function takeOverIfGone(lockDir: string, stale: number): Promise<boolean> {
  let names: string[];
  try {
    names = await readdir(lockDir);
  } catch (error) {
    // Released meanwhile; anything else (not a folder, unreadable) is left to the wait's end.
    return (error as NodeJS.ErrnoException).code === "ENOENT";
  }
  const name = names.find((entry) => entry.startsWith(HOLDER) || entry.startsWith(TAKEN));
  if (name === undefined) return false;
  const gone = name.startsWith(HOLDER) && isGone(await holderIn(path.join(lockDir, name)));
  if (!gone && !(await untouchedFor(lockDir, stale))) return false;
  const taken = `${TAKEN}${randomUUID()}`;
  try {
    // Kept inside the lock, which so stays non-empty until it is moved aside below.
    await rename(path.join(lockDir, name), path.join(lockDir, taken));
  } catch (error) {
    // Gone: another waiter took it over first, try again. Anything else (a lock this user may
    // not change) is waited out like a live holder, until the deadline names it.
    return (error as NodeJS.ErrnoException).code === "ENOENT";
  }
  const aside = `${lockDir}.${taken}`;
  await rename(lockDir, aside);
  await rm(aside, { recursive: true, force: true });
  return true;
}

async function holderIn(file: string): Promise<Holder | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(file, "utf8"));
    return isHolder(value) ? value : undefined;
  } catch {
    return undefined; // being written, or not conductor's
  }
}

function isGone(holder: Holder | undefined): boolean {
  return holder !== undefined && holderIsGone(holder);
}

async function untouchedFor(lockDir: string, stale: number): Promise<boolean> {
  try {
    return (await stat(lockDir)).mtimeMs < Date.now() - stale;
  } catch {
    return false;
  }
}
