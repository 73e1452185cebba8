import { randomBytes } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { OperationError } from "../../errors.js";
import { lockWithHolder } from "../../fs/lock-with-holder.js";
import {
  entryPaths,
  LOCK_OPTIONS,
  listEntries,
  removeAbandonedFills,
  subfolders,
} from "./cache.js";
import { type EntryUser, entryUsers } from "./in-use.js";

/** An entry `cache clean` left in place, and why. */
export interface KeptEntry {
  repo: string;
  key: string;
  /** Live processes placing its folders into workspaces. */
  users: EntryUser[];
  /** Another conductor kept the key's lock (filling the key anew, or cleaning it) all along. */
  lock?: string;
}

/** What `cache clean` did. */
export interface CleanResult {
  /** `<repo>/<key>` of each entry removed. */
  removed: string[];
  bytes: number;
  kept: KeptEntry[];
}

/**
 * How long to wait for the lock of a key: a clean or a waiter keeps it for moments, and a lock
 * whose holder cannot be seen is taken over once left untouched for `LOCK_OPTIONS.stale`.
 */
const LOCK_WAIT_MS = LOCK_OPTIONS.stale + 1_000;

/**
 * Removes entries (all of `repos`, or those whose key starts with `keyPrefix`) that no live
 * process is placing from, and temporary folders of fills that no live process holds. Each entry
 * is removed holding its key's lock, after reading who marked it in use (see in-use.ts), and is
 * first renamed into `tmp/` so that no process ever sees half of one.
 */
export async function cleanEntries(
  root: string,
  repos: readonly string[] | undefined,
  keyPrefix?: string,
): Promise<CleanResult> {
  const result: CleanResult = { removed: [], bytes: 0, kept: [] };
  for (const entry of await listEntries(root, repos)) {
    if (keyPrefix !== undefined && !entry.key.startsWith(keyPrefix)) continue;
    const removal = await removeUnused(path.dirname(entry.dir), entry.key);
    if (removal === "removed") {
      result.removed.push(`${entry.repo}/${entry.key}`);
      result.bytes += entry.bytes;
    } else if (removal !== "gone") {
      result.kept.push({ repo: entry.repo, key: entry.key, ...removal });
    }
  }
  if (keyPrefix === undefined) {
    for (const repo of repos ?? (await subfolders(root))) {
      await removeAbandonedFills(path.join(root, repo));
    }
  }
  return result;
}

/** Why an entry was kept; "gone" when another clean removed it first. */
type Removal = "removed" | "gone" | Omit<KeptEntry, "repo" | "key">;

/** Removes the entry of `key` unless a live process is placing from it. */
async function removeUnused(repoDir: string, key: string): Promise<Removal> {
  const paths = entryPaths(repoDir, key);
  let release: () => Promise<void>;
  try {
    release = await lockWithHolder(paths.lockTarget, {
      ...LOCK_OPTIONS,
      waitMs: LOCK_WAIT_MS,
      // Lost to a holder that took it over as stale: this clean's rename is one step, done or not.
      onCompromised: () => {},
    });
  } catch (error) {
    if (!(error instanceof OperationError)) throw error;
    return { users: [], lock: `${paths.lockTarget}.lock` };
  }
  const trash = path.join(repoDir, "tmp", `trash.${key}.${randomBytes(4).toString("hex")}`);
  try {
    // Read holding the lock: a placement that marks the entry after this finds the lock held.
    const users = await entryUsers(repoDir, key);
    if (users.length > 0) return { users };
    await mkdir(path.dirname(trash), { recursive: true });
    await rename(paths.dir, trash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw error;
  } finally {
    await release().catch(() => {});
  }
  await rm(trash, { recursive: true, force: true });
  return "removed";
}
