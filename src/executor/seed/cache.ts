import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { lockIsHeld } from "../../fs/lock-with-holder.js";

/**
 * The seed cache on disk:
 *
 *   <root>/<repo>/<key>/seed.json          the manifest; written last, inside the temporary folder
 *   <root>/<repo>/<key>/folders/<folder>   the seeded folders
 *   <root>/<repo>/<key>/links/<hash>.json  a workspace folder linked to it (mode: symlink)
 *   <root>/<repo>/<key>.in-use.<pid>.<…>   a process placing from it (see in-use.ts)
 *   <root>/<repo>/<key>.lock               the lock of the process filling or removing the key
 *   <root>/<repo>/tmp/<key>.<pid>.<random> a key being filled; renamed to <key> when complete
 *
 * An entry exists only once it is complete (one rename of a finished folder), so a process killed
 * while filling leaves a temporary folder that nothing reads, and the lock goes stale.
 */

/** Manifest of one cache entry (`seed.json`). */
export interface SeedManifest {
  formatVersion: 1;
  key: string;
  createdAt: string;
  /** The commit whose checkout ran the seed script. */
  commit: string;
  /** Key files that existed, relative to the repository root. */
  keyFiles: string[];
  /** `files`: files and links in the folder after the fill. */
  folders: { path: string; present: boolean; files: number }[];
  platform: string;
  node: string;
}

/** The cache root: `$CONDUCTOR_CACHE_DIR`, else `~/.conductor/cache`. */
export function cacheRoot(homeDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env.CONDUCTOR_CACHE_DIR;
  return override !== undefined && override !== ""
    ? path.resolve(override)
    : path.join(homeDir, ".conductor", "cache");
}

/**
 * The folder of one repository's entries, named after the repository's folder name: two clones
 * of one project share their entries, which is right because a key is made of everything the
 * seeded folders depend on (and two projects that happen to share a name share nothing else).
 */
export function repoCacheDir(root: string, repoName: string): string {
  return path.join(root, repoFolderName(repoName));
}

/** The cache folder name of a repository named `repoName` (its main checkout's folder name). */
export function repoFolderName(repoName: string): string {
  return repoName.replace(/[^A-Za-z0-9._-]/g, "_") || "repository";
}

/** Paths of one entry. */
export function entryPaths(repoDir: string, key: string) {
  return {
    dir: path.join(repoDir, key),
    manifest: path.join(repoDir, key, "seed.json"),
    folder: (folder: string) => path.join(repoDir, key, "folders", folder),
    /** Records of the workspace folders placed as symbolic links into it (see in-use.ts). */
    links: path.join(repoDir, key, "links"),
    /** What the fill's lock locks (it makes `<key>.lock`, see src/fs/lock-with-holder.ts). */
    lockTarget: path.join(repoDir, key),
    tmpDir: path.join(repoDir, "tmp"),
    /** A fresh temporary folder name for filling this key. */
    newTmp: () =>
      path.join(repoDir, "tmp", `${key}.${process.pid}.${randomBytes(4).toString("hex")}`),
  };
}

/**
 * Options every seed lock uses: touched every second while a fill runs; stale after 5 s without
 * it, for a holder that cannot be seen to be gone (another machine or container).
 */
export const LOCK_OPTIONS = { stale: 5_000, update: 1_000 } as const;

/** The manifest of a complete entry, or undefined when there is none (or it is unreadable). */
export async function readManifest(
  repoDir: string,
  key: string,
): Promise<SeedManifest | undefined> {
  try {
    const manifest = JSON.parse(
      await readFile(entryPaths(repoDir, key).manifest, "utf8"),
    ) as SeedManifest;
    return manifest.key === key ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/** One entry as `conductor cache list` shows it. */
export interface CacheEntry {
  repo: string;
  key: string;
  dir: string;
  manifest: SeedManifest | undefined;
  /** Bytes on disk, each inode once (hard links to workspaces are not counted again). */
  bytes: number;
  /** Last time a workspace was seeded from it (the entry folder's mtime, touched on use). */
  usedAt: Date;
}

const KEY_NAME = /^[0-9a-f]{32}$/;

/** Entries of the given repository folders (all repositories when `repos` is undefined). */
export async function listEntries(root: string, repos?: readonly string[]): Promise<CacheEntry[]> {
  const entries: CacheEntry[] = [];
  for (const repo of repos ?? (await subfolders(root))) {
    const repoDir = path.join(root, repo);
    for (const key of await subfolders(repoDir)) {
      if (!KEY_NAME.test(key)) continue;
      const dir = path.join(repoDir, key);
      // An entry removed meanwhile (another clean, a run replacing a damaged one) is not listed.
      const info = await stat(dir).catch(() => undefined);
      if (info === undefined) continue;
      const manifest = await readManifest(repoDir, key);
      const bytes = await diskUsage(dir);
      if (!existsSync(dir)) continue;
      entries.push({ repo, key, dir, manifest, bytes, usedAt: info.mtime });
    }
  }
  return entries.sort((a, b) => b.usedAt.getTime() - a.usedAt.getTime());
}

/**
 * Removes temporary folders of fills nobody works on: those of keys whose lock is not held
 * (their process was killed, or they are leftovers of a removal). `onlyKey` limits it to one key.
 */
export async function removeAbandonedFills(repoDir: string, onlyKey?: string): Promise<void> {
  const tmp = path.join(repoDir, "tmp");
  for (const name of await subfolders(tmp)) {
    const key = name.startsWith("trash.") ? undefined : name.split(".")[0];
    if (onlyKey !== undefined && key !== onlyKey) continue;
    if (key !== undefined && onlyKey === undefined) {
      const held = await lockIsHeld(path.join(repoDir, key), LOCK_OPTIONS.stale).catch(() => false);
      if (held) continue;
    }
    // A killed fill's script may still be writing there (it is ended on resume): a folder that
    // cannot be removed now is left for the next time; nothing ever reads it.
    await rm(path.join(tmp, name), { recursive: true, force: true, maxRetries: 2 }).catch(() => {});
  }
}

/** The folders in `dir`; none when it does not exist. */
export async function subfolders(dir: string): Promise<string[]> {
  try {
    const names = await readdir(dir, { withFileTypes: true });
    return names.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** Bytes allocated under `dir`, each inode once, like `du`. */
export async function diskUsage(dir: string, seen = new Set<string>()): Promise<number> {
  let total = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    const info = await lstat(file).catch(() => undefined);
    if (info === undefined) continue; // removed meanwhile
    const id = `${info.dev}:${info.ino}`;
    if (seen.has(id)) continue;
    seen.add(id);
    total += info.blocks * 512;
    if (info.isDirectory()) total += await diskUsage(file, seen);
  }
  return total;
}
