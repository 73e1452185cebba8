import { existsSync, readlinkSync, realpathSync } from "node:fs";
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import { commandLineOf } from "../process/command-line.js";
import { openFilesOf, otherPids } from "../process/open-files.js";
import { runGit } from "./run-git.js";

/**
 * Git's lock files (`index.lock`, `HEAD.lock`, a branch's `.lock`) are created by the git that
 * works on a file and removed when it is done. A git killed half way (a conductor stopped during
 * its commit) leaves its lock behind, and every later git in that worktree refuses to start. On
 * resume conductor waits for a lock some live process holds, and removes one nobody holds.
 */

/** How long a resume waits for a live process to let go of a lock. */
const WAIT_FOR_HOLDER_MS = 30_000;
/** Without /proc a lock is taken for stale only when nothing touched it for this long. */
const STALE_WITHOUT_PROC_MS = 60_000;
/**
 * Even with nobody holding it open, a lock this young is left alone: git closes a ref lock's file
 * after writing it and renames it only when the transaction commits, a moment later.
 */
const QUIET_MS = 2_000;

/** What {@link clearStaleLocks} did. */
export interface LockReport {
  /** Locks removed because no live process held them. */
  removed: string[];
  /** Locks still held after waiting, with who holds them. */
  held: string[];
}

/** Waits for held lock files of the worktree to be released and removes stale ones. */
export async function clearStaleLocks(
  worktree: string,
  branch: string,
  waitMs = WAIT_FOR_HOLDER_MS,
): Promise<LockReport> {
  const stdout = await runGit(worktree, [
    "rev-parse",
    "--path-format=absolute",
    "--git-path",
    "index.lock",
    "--git-path",
    "HEAD.lock",
    "--git-path",
    `refs/heads/${branch}.lock`,
  ]);
  const locks = stdout.split("\n").filter((file) => file !== "" && existsSync(file));
  const report: LockReport = { removed: [], held: [] };
  const deadline = Date.now() + waitMs;
  for (const lock of locks) {
    for (;;) {
      if (!existsSync(lock)) break; // its git finished
      const holders = await holdersOf(lock, worktree);
      if (holders !== undefined && holders.length === 0) {
        await rm(lock, { force: true });
        report.removed.push(lock);
        break;
      }
      if (Date.now() >= deadline) {
        report.held.push(`${lock} (${holders?.join(", ") ?? "recently used"})`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return report;
}

/**
 * Processes that have `file` open, as `pid (command)`; undefined when that cannot be known (no
 * /proc) and the file is recent enough that some process may still be working on it.
 */
async function holdersOf(file: string, worktree: string): Promise<string[] | undefined> {
  const age = Date.now() - (await stat(file).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
  if (!existsSync("/proc/self/fd")) return age > STALE_WITHOUT_PROC_MS ? [] : undefined;
  if (age < QUIET_MS) return undefined;
  // /proc shows the path with symlinks resolved.
  const real = path.join(realpathSync(path.dirname(file)), path.basename(file));
  const realWorktree = realpathSync(worktree);
  const holders: string[] = [];
  for (const pid of otherPids()) {
    // A git working in the worktree may hold a lock it has closed but not yet renamed.
    const cwd = safeReadlink(`/proc/${pid}/cwd`);
    if (cwd !== undefined && (cwd === realWorktree || cwd.startsWith(`${realWorktree}/`))) {
      holders.push(`pid ${pid} ${commandOf(pid)} working in the worktree`.trim());
      continue;
    }
    if (openFilesOf(pid).some((target) => target === file || target === real)) {
      holders.push(`pid ${pid} ${commandOf(pid)}`.trim());
    }
  }
  return holders;
}

function commandOf(pid: string): string {
  const command = commandLineOf(pid);
  return command === undefined ? "" : `(${command})`;
}

function safeReadlink(link: string): string | undefined {
  try {
    return readlinkSync(link);
  } catch {
    return undefined;
  }
}
