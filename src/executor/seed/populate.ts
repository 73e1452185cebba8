import { randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
import { existsSync } from "node:fs";
import { lstat, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { entryExists } from "../../fs/entry-exists.js";
import { tryLockWithHolder } from "../../fs/lock-with-holder.js";
import { git } from "../../git/worktree.js";
import type { ProcessOutcome } from "../../process/outcome.js";
import { runProcess } from "../../process/run.js";
import type { SeedConfig } from "../../schema/seed.js";
import type { Redactor } from "../../secrets/redact.js";
import {
  entryPaths,
  LOCK_OPTIONS,
  readManifest,
  removeAbandonedFills,
  type SeedManifest,
} from "./cache.js";
import { entryUsers, holdEntry } from "./in-use.js";

/** Everything filling one key needs. */
export interface FillRequest {
  repoRoot: string;
  /** The repository's folder in the cache (see `repoCacheDir`). */
  repoDir: string;
  key: string;
  keyFiles: string[];
  seed: SeedConfig;
  script: string;
  /** The commit whose fresh checkout runs the script (the workspace's start commit). */
  commit: string;
  /** Puts the run's `copy` files into the fresh checkout (a private registry's .npmrc…). */
  copyFiles(checkout: string): Promise<void>;
  env: Record<string, string>;
  timeoutMs: number;
  logFile: string;
  redactor: Redactor;
  signal: AbortSignal;
  /** Called once when another workspace or process is filling the key. */
  onWaiting(): void;
  /** Called when this process starts running the seed script. */
  onFilling(): void;
}

/** How getting an entry ended. */
export type FillOutcome =
  | { status: "cached"; manifest: SeedManifest }
  | { status: "filled"; manifest: SeedManifest }
  /** The seed script did not succeed (or was cancelled). */
  | { status: "script-failed"; outcome: ProcessOutcome };

/** An entry held for placing its folders (see in-use.ts): `release` ends the hold. */
export type HeldOutcome =
  | (Extract<FillOutcome, { status: "cached" | "filled" }> & { release(): void })
  | Extract<FillOutcome, { status: "script-failed" }>;

/**
 * The complete entry of `request.key`, as {@link cachedEntry} gets it, marked in use so that
 * `cache clean` leaves it until the caller has placed its folders and released it. An entry being
 * removed meanwhile is waited for and got again (filled anew).
 */
export async function heldEntry(request: FillRequest): Promise<HeldOutcome> {
  for (;;) {
    const outcome = await cachedEntry(request);
    if (outcome.status === "script-failed") return outcome;
    const release = await holdEntry(request.repoDir, request.key);
    if (release !== undefined) return { ...outcome, release };
    if (request.signal.aborted)
      return { status: "script-failed", outcome: { reason: "cancelled" } };
    await sleep(WAIT_POLL_MS, undefined, { signal: request.signal }).catch(() => {});
  }
}

/** How often a process waiting for another one's fill looks again. */
const WAIT_POLL_MS = 150;

/** Fills in this process, by entry folder: workspaces of one run wait for one fill. */
const fillsInProcess = new Map<string, Promise<FillOutcome>>();

/**
 * The complete cache entry of `request.key`, filled first if there is none. One process fills a
 * key at a time (a lock naming its holder: a killed holder's is taken over at once); others wait for
 * it. The fill runs the seed script in a fresh checkout inside the cache's `tmp/` folder, moves
 * the folders beside it, writes the manifest and renames the whole folder into place: an entry
 * exists whole or not at all.
 */
export function cachedEntry(request: FillRequest): Promise<FillOutcome> {
  const dir = entryPaths(request.repoDir, request.key).dir;
  const running = fillsInProcess.get(dir);
  if (running !== undefined) {
    // Another workspace of this run asked first: it does the fill, this one waits for it.
    request.onWaiting();
    return running.then((outcome) =>
      outcome.status === "filled" ? { status: "cached", manifest: outcome.manifest } : outcome,
    );
  }
  const fill = fillOnce(request).finally(() => fillsInProcess.delete(dir));
  fillsInProcess.set(dir, fill);
  return fill;
}

async function fillOnce(request: FillRequest): Promise<FillOutcome> {
  const paths = entryPaths(request.repoDir, request.key);
  let waited = false;
  for (;;) {
    const cached = await readManifest(request.repoDir, request.key);
    if (cached !== undefined && (await usable(request, cached)))
      return { status: "cached", manifest: cached };
    if (request.signal.aborted)
      return { status: "script-failed", outcome: { reason: "cancelled" } };
    await mkdir(request.repoDir, { recursive: true });
    const release = await tryLockWithHolder(paths.lockTarget, {
      ...LOCK_OPTIONS,
      // For the fill, the lock only saves duplicate work: the final rename keeps the cache correct
      // even when two processes fill one key. So a lock lost (its folder removed) must not crash
      // anything.
      onCompromised: () => {},
    });
    if (release === undefined) {
      if (!waited) request.onWaiting();
      waited = true;
      await sleep(WAIT_POLL_MS, undefined, { signal: request.signal }).catch(() => {});
      continue;
    }
    try {
      const cachedNow = await readManifest(request.repoDir, request.key);
      if (cachedNow !== undefined && (await usable(request, cachedNow)))
        return { status: "cached", manifest: cachedNow };
      // Written in place through a hard link or symlink, or damaged (a folder without a readable
      // manifest, a seeded folder gone): never handed out again. Fills only ever rename a complete
      // entry into place, so under the lock such a folder is nobody's work in progress; left
      // there, it would also refuse the rename of the fill below, failing every run for good.
      if (cachedNow !== undefined || entryExists(paths.dir)) {
        // Another process's placement from it would fail half way; new ones find the lock held.
        if (!(await untilUnused(request.repoDir, request.key, request.signal)))
          return { status: "script-failed", outcome: { reason: "cancelled" } };
        await evict(request.repoDir, request.key);
      }
      return await fill(request);
    } finally {
      await release().catch(() => {});
    }
  }
}

async function fill(request: FillRequest): Promise<FillOutcome> {
  const paths = entryPaths(request.repoDir, request.key);
  // Holding the key's lock: any temporary folder of this key is a killed process's.
  await removeAbandonedFills(request.repoDir, request.key);
  const tmp = paths.newTmp();
  const checkout = path.join(tmp, "checkout");
  try {
    await mkdir(tmp, { recursive: true });
    request.onFilling();
    // A clone sharing the repository's objects, not a worktree: nothing is registered in the
    // repository, so a killed fill leaves no worktree metadata behind, and tools the script runs
    // (husky's prepare writing core.hooksPath) change the clone's config, not the repository's.
    await git(request.repoRoot, [
      "clone",
      "--quiet",
      "--shared",
      "--no-checkout",
      request.repoRoot,
      checkout,
    ]);
    await git(checkout, ["checkout", "--quiet", "--detach", request.commit]);
    await request.copyFiles(checkout);
    const outcome = await runProcess({
      file: request.script,
      shell: true,
      cwd: checkout,
      env: {
        ...request.env,
        CONDUCTOR_WORKSPACE_PATH: checkout,
        CONDUCTOR_SEEDING: "1",
        CONDUCTOR_SEED_KEY: request.key,
      },
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      logFile: request.logFile,
      redactor: request.redactor,
    });
    if (outcome.reason !== "exited") return { status: "script-failed", outcome };
    const folders: SeedManifest["folders"] = [];
    for (const folder of request.seed.folders) {
      const made = path.join(checkout, folder.path);
      const present = existsSync(made);
      const kept = path.join(tmp, "folders", folder.path);
      if (present) {
        await mkdir(path.dirname(kept), { recursive: true });
        await rename(made, kept);
      }
      folders.push({ path: folder.path, present, files: present ? await countFiles(kept) : 0 });
    }
    await rm(checkout, { recursive: true, force: true });
    const manifest: SeedManifest = {
      formatVersion: 1,
      key: request.key,
      createdAt: new Date().toISOString(),
      commit: request.commit,
      keyFiles: request.keyFiles,
      folders,
      platform: `${process.platform}-${process.arch}`,
      node: process.version,
    };
    await writeFile(path.join(tmp, "seed.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      await rename(tmp, paths.dir);
    } catch (error) {
      // Another process filled the key meanwhile (its lock went stale under it): keep theirs.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
      const theirs = await readManifest(request.repoDir, request.key);
      if (theirs === undefined) throw error;
      return { status: "cached", manifest: theirs };
    }
    return { status: "filled", manifest };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Whether a complete entry may be handed out: none of its folders gone, none written in place. */
async function usable(request: FillRequest, manifest: SeedManifest): Promise<boolean> {
  const paths = entryPaths(request.repoDir, request.key);
  // Folders removed by hand (or a disk clean-up) would fail every placement with ENOENT.
  if (manifest.folders.some((folder) => folder.present && !entryExists(paths.folder(folder.path))))
    return false;
  return !(await changedSinceFill(request, manifest));
}

/** Entries found unchanged by this process (checked once per process: a walk of every file). */
const checkedUnchanged = new Set<string>();

/**
 * Whether a workspace that shares the entry's files by hard links wrote into them in place: a
 * file or folder modified after the fill, or files gone. Only checked when the request shares
 * files; copies and clones cannot change the entry. An entry a symlink-mode folder uses is never
 * found changed: live workspaces of other runs are linked to it (their key differs from the
 * other modes'), and symlink mode shares writes by design.
 */
async function changedSinceFill(request: FillRequest, manifest: SeedManifest): Promise<boolean> {
  if (request.seed.folders.some((f) => f.mode === "symlink")) return false;
  const shares = request.seed.folders.some((f) => f.mode === "hardlink");
  const paths = entryPaths(request.repoDir, request.key);
  if (!shares || checkedUnchanged.has(paths.dir)) return false;
  const filledAt = Date.parse(manifest.createdAt);
  for (const folder of manifest.folders) {
    if (!folder.present) continue;
    const root = paths.folder(folder.path);
    let files = 0;
    let entries: Dirent[];
    try {
      entries = await readdir(root, { recursive: true, withFileTypes: true });
    } catch {
      return true;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) files++;
      // Gone since the readdir: the entry was removed (cache clean) or changed, which the caller
      // tells apart under the key's lock. Thrown, it failed the workspace.
      const info = await lstat(path.join(entry.parentPath, entry.name)).catch(() => undefined);
      if (info === undefined || info.mtimeMs > filledAt) return true;
    }
    if (files !== folder.files) return true;
  }
  checkedUnchanged.add(paths.dir);
  return false;
}

/** A mark whose process conductor cannot see (another container) is waited for this long. */
const UNSEEN_USER_WAIT_MS = 60_000;

/**
 * Waits, holding the key's lock, until no live process places from the entry of `key`; false
 * when cancelled first.
 */
async function untilUnused(repoDir: string, key: string, signal: AbortSignal): Promise<boolean> {
  const since = Date.now();
  for (;;) {
    const users = await entryUsers(repoDir, key);
    // A placement takes seconds; a mark left by a process killed where conductor cannot see it
    // would otherwise hold this fill, and every workspace waiting for it, for good.
    const unseenLongEnough = Date.now() - since > UNSEEN_USER_WAIT_MS;
    if (users.every((user) => user.unseen && unseenLongEnough)) return true;
    await sleep(WAIT_POLL_MS, undefined, { signal }).catch(() => {});
    if (signal.aborted) return false;
  }
}

/** Moves an entry out of the way (one rename, so nobody sees half of it), then deletes it. */
async function evict(repoDir: string, key: string): Promise<void> {
  // Unique: a trash folder this process could not remove earlier must not refuse this rename.
  const trash = path.join(
    repoDir,
    "tmp",
    `trash.${key}.${process.pid}.${randomBytes(4).toString("hex")}`,
  );
  await mkdir(path.dirname(trash), { recursive: true });
  await rename(entryPaths(repoDir, key).dir, trash);
  await rm(trash, { recursive: true, force: true }).catch(() => {});
}

/**
 * Files and links under `dir`, for {@link changedSinceFill}. One recursive readdir (0.1 s for
 * 20,000 files); the entry's size is left to `cache list`, which measured it with a sequential
 * lstat of every file (1 s) inside the fill.
 */
async function countFiles(dir: string): Promise<number> {
  let files = 0;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) if (!entry.isDirectory()) files++;
  return files;
}
