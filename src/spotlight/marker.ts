import { link, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { OperationError, StateError } from "../errors.js";
import { commonGitDir } from "../git/facts.js";
import { SPOTLIGHT_MARKER } from "../git/spotlight-footprint.js";
import { processExists } from "../process/exists.js";

/**
 * Spotlight's state on disk: a marker file in the repository's git directory, written before the
 * main checkout changes and removed after it is restored. Whoever finds it (the next conductor
 * command, after a SIGKILL) knows Spotlight is on, which workspace it shows and what to restore.
 */

/** What the marker file records. */
export interface SpotlightMarker {
  version: 1;
  /** The workspace shown, its run and worktree. */
  workspace: string;
  runId: string;
  worktree: string;
  /** Where the workspace's changes are measured from (a commit). */
  start: string;
  /** The workspace's seeded folders, left out of what is shown. */
  exclude?: string[];
  /** The ref holding the main checkout's own state from before Spotlight. */
  savedRef: string;
  savedCommit: string;
  /** HEAD when Spotlight began: restoring onto another commit needs --force. */
  head: string;
  /** The main checkout's files before Spotlight (tracked and untracked, not ignored). */
  original: string;
  /** Its index before Spotlight (what was staged). */
  staged: string;
  /** What the main checkout's files are now (the last finished change). */
  applied: string;
  /** A change under way: the checkout may hold any mix of `applied` and `to` until it ends. */
  pending?: { to: string };
  /** Files of the workspace's changes shown right now. */
  files: number;
  startedAt: string;
  updatedAt: string;
}

/** The file names of Spotlight inside the repository's (common) git directory. */
export interface SpotlightPaths {
  marker: string;
  lock: string;
}

/** The ref the main checkout's own state is saved to while Spotlight is on. */
export const SAVED_REF = "refs/conductor/spotlight/saved";
/** The saved state of the last Spotlight that ended, kept in case something was missed. */
export const PREVIOUS_REF = "refs/conductor/spotlight/previous";
/** What the main checkout held when `--off --force` threw away edits made while Spotlight was on. */
export const LEFT_REF = "refs/conductor/spotlight/left";

/** Marker and lock paths of a repository (its common git directory, shared by worktrees). */
export async function spotlightPaths(root: string): Promise<SpotlightPaths> {
  return markerPathsIn(await commonGitDir(root));
}

/** Marker and lock paths inside a common git directory. */
export function markerPathsIn(commonGitDir: string): SpotlightPaths {
  const marker = path.join(commonGitDir, SPOTLIGHT_MARKER);
  return { marker, lock: path.join(path.dirname(marker), "spotlight.lock") };
}

/** The marker, or undefined when Spotlight is off. */
export async function readMarker(paths: SpotlightPaths): Promise<SpotlightMarker | undefined> {
  let text: string;
  try {
    text = await readFile(paths.marker, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const marker = JSON.parse(text) as SpotlightMarker;
    if (marker.version === 1) return marker;
  } catch {
    // reported below
  }
  throw new StateError(`the Spotlight marker ${paths.marker} is unreadable`, {
    hint: `The main checkout's state from before Spotlight is kept on ${SAVED_REF}.`,
  });
}

/** Writes the marker atomically (temporary file, then rename). */
export async function writeMarker(paths: SpotlightPaths, marker: SpotlightMarker): Promise<void> {
  await mkdir(path.dirname(paths.marker), { recursive: true });
  const temporary = `${paths.marker}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(marker, null, 2)}\n`);
  await rename(temporary, paths.marker);
}

/** Removes the marker: Spotlight is off. */
export async function removeMarker(paths: SpotlightPaths): Promise<void> {
  await rm(paths.marker, { force: true });
}

/** How long a Spotlight command waits for another one that holds the lock. */
const LOCK_WAIT_MS = 30_000;

/**
 * Runs `work` holding Spotlight's lock: a file with the holder's pid, created exclusively. A lock
 * whose holder is dead (a SIGKILLed conductor) is taken over at once, so recovery never waits.
 */
export async function withSpotlightLock<T>(
  paths: SpotlightPaths,
  work: () => Promise<T>,
): Promise<T> {
  await mkdir(path.dirname(paths.lock), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  // The pid is written first and the file linked into place: a lock is never seen empty.
  const mine = `${paths.lock}.${process.pid}.tmp`;
  await writeFile(mine, String(process.pid));
  try {
    for (;;) {
      try {
        await link(mine, paths.lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = Number((await readFile(paths.lock, "utf8").catch(() => "")).trim());
      if (!processExists(holder)) {
        await rm(paths.lock, { force: true }); // its holder died (a SIGKILLed conductor)
        continue;
      }
      if (Date.now() > deadline) {
        throw new OperationError(`another conductor (pid ${holder}) is changing Spotlight`, {
          hint: "Wait for it to finish, then try again.",
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    await removeKilledIndexes(path.dirname(path.dirname(paths.lock)));
    return await work();
  } finally {
    await rm(paths.lock, { force: true });
  }
}

/**
 * Temporary indexes (and their lock files) a killed Spotlight left in the git directory: only the
 * lock's holder makes them there, so with the lock held every one found is a leftover.
 */
async function removeKilledIndexes(gitDir: string): Promise<void> {
  const names = await readdir(gitDir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => name.startsWith(TEMPORARY_INDEX_PREFIX))
      .map((name) => rm(path.join(gitDir, name), { force: true })),
  );
}

/** How Spotlight's temporary index files are named. */
export const TEMPORARY_INDEX_PREFIX = "conductor-spotlight-";
