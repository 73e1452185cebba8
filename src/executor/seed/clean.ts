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
import { type EntryUser, entryUsers, linksInto } from "./in-use.js";

/** An entry `cache clean` left in place, and why. */
export interface KeptEntry {
  repo: string;
  key: string;
  /** Live processes placing its folders into workspaces. */
  users: EntryUser[];
  /** Workspace folders that are symbolic links into it (mode: symlink); none when forced. */
  links: string[];
  /** Another conductor kept the key's lock (filling the key anew, or cleaning it) all along. */
  lock?: string;
}

/** What `cache clean` did. */
export interface CleanResult {
  /** `<repo>/<key>` of each entry removed. */
  removed: string[];
  bytes: number;
  kept: KeptEntry[];
  /** Workspace folders that linked into a removed entry, forced: they point nowhere now. */
  unlinked: string[];
}

/**
 * How long to wait for the lock of a key: a clean or a waiter keeps it for moments, and a lock
 * whose holder cannot be seen is taken over once left untouched for `LOCK_OPTIONS.stale`.
 */
const LOCK_WAIT_MS = LOCK_OPTIONS.stale + 1_000;

/**
 * Removes entries (all of `repos`, or those whose key starts with `keyPrefix`) that no live
 * process is placing from and, unless `force`, no workspace folder links to, and temporary folders
 * of fills that no live process holds. Each entry is removed holding its key's lock, after reading
 * who uses it (see in-use.ts), and is first renamed into `tmp/` so that no process ever sees half
 * of one.
 */
export async function cleanEntries(
  root: string,
  repos: readonly string[] | undefined,
  options: { keyPrefix?: string | undefined; force?: boolean } = {},
): Promise<CleanResult> {
  const { keyPrefix, force = false } = options;
  const result: CleanResult = { removed: [], bytes: 0, kept: [], unlinked: [] };
  for (const entry of await listEntries(root, repos)) {
    if (keyPrefix !== undefined && !entry.key.startsWith(keyPrefix)) continue;
    const removal = await removeUnused(path.dirname(entry.dir), entry.key, force);
    if (removal === "gone") continue;
    if ("kept" in removal) {
      result.kept.push({ repo: entry.repo, key: entry.key, ...removal.kept });
      continue;
    }
    result.removed.push(`${entry.repo}/${entry.key}`);
    result.bytes += entry.bytes;
    result.unlinked.push(...removal.unlinked);
  }
  if (keyPrefix === undefined) {
    for (const repo of repos ?? (await subfolders(root))) {
      await removeAbandonedFills(path.join(root, repo));
    }
  }
  return result;
}

/** What became of an entry; "gone" when another clean removed it first. */
type Removal = { unlinked: string[] } | { kept: Omit<KeptEntry, "repo" | "key"> } | "gone";

/**
 * Removes the entry of `key` unless a live process is placing from it or, unless `force`, a
 * workspace folder links to it.
 */
async function removeUnused(repoDir: string, key: string, force: boolean): Promise<Removal> {
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
    return { kept: { users: [], links: [], lock: `${paths.lockTarget}.lock` } };
  }
  const trash = path.join(repoDir, "tmp", `trash.${key}.${randomBytes(4).toString("hex")}`);
  let links: string[];
  try {
    // Read holding the lock: a placement that marks the entry after this finds the lock held.
    const users = await entryUsers(repoDir, key);
    links = await linksInto(repoDir, key);
    if (users.length > 0 || (links.length > 0 && !force))
      return { kept: { users, links: force ? [] : links } };
    await mkdir(path.dirname(trash), { recursive: true });
    await rename(paths.dir, trash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw error;
  } finally {
    await release().catch(() => {});
  }
  await rm(trash, { recursive: true, force: true });
  return { unlinked: links };
}
