import {
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  readlinkSync,
  realpathSync,
  type Stats,
  statSync,
  symlinkSync,
} from "node:fs";
import { copyFile } from "node:fs/promises";
import path from "node:path";
import picomatch from "picomatch";
import { OperationError } from "../errors.js";
import { entryExists } from "../fs/entry-exists.js";
import { isInside } from "../fs/is-inside.js";
import { realPlaceOf } from "../fs/real-place.js";
import { clearForNewFile, describeKind, entryStats, targetKindOf } from "../fs/regular-file.js";
import { matchRepositoryFiles } from "../fs/repository-glob.js";
import type { CopyEntry } from "../schema/config.js";

/** What the copy step did in one workspace. */
export interface CopyReport {
  /** Relative paths copied (or linked) into the worktree. */
  copied: string[];
  /** Relative paths left alone because the branch already has a file there. */
  skipped: string[];
}

/** Folder in each workspace that holds the context files; never committed. */
export const CONTEXT_DIR = ".context";

/**
 * What never goes into a workspace's commits: the copied files, the context folder and the
 * folders seeded from the cache (a node_modules the project forgot to ignore stays out too).
 */
export function keptOutOfCommits(
  copied: readonly string[],
  seeded: readonly string[] = [],
): string[] {
  return [...copied.filter((file) => !file.startsWith(`${CONTEXT_DIR}/`)), CONTEXT_DIR, ...seeded];
}

/**
 * Copies the `copy` globs from the main checkout into the worktree, at the same relative paths.
 * Gitignored files are included (that is the point); `.git` never is. A file the branch already
 * has is never overwritten. Sources that resolve outside the repository (symlinks) are refused.
 */
export async function copyIntoWorkspace(
  root: string,
  worktree: string,
  entries: readonly CopyEntry[],
  matches: SourceMatches = new Map(),
): Promise<CopyReport> {
  const report: CopyReport = { copied: [], skipped: [] };
  const realRoot = realpathSync.native(root);
  const realWorktree = realpathSync.native(worktree);
  for (const entry of entries) {
    for (const relative of await matchesOf(matches, root, entry.pattern)) {
      const source = path.join(root, relative);
      const target = path.join(worktree, relative);
      await assertInside(realRoot, source, relative);
      await assertRegular(source, relative);
      if (entryStats(target) !== undefined) {
        report.skipped.push(relative);
        continue;
      }
      makeFolderInside(realWorktree, path.dirname(target), relative);
      await placeFile(source, target, entry.mode);
      report.copied.push(relative);
    }
  }
  return report;
}

/**
 * Puts back the files an earlier copy step placed (`copied`, context files included) that are
 * missing from the worktree: a reset for a fresh try (`git clean`, `git reset --hard`) removes a
 * copied file that is not gitignored, or one the agent staged. Nothing beyond `copied` is copied,
 * so nothing unrecorded can reach a commit. Returns the paths put back.
 */
export async function restoreCopiedFiles(
  root: string,
  worktree: string,
  copied: readonly string[],
  entries: readonly CopyEntry[],
): Promise<string[]> {
  const restored: string[] = [];
  const realRoot = realpathSync.native(root);
  const realWorktree = realpathSync.native(worktree);
  const matchers = entries.map((entry) => ({
    mode: entry.mode,
    // A folder named plainly copies everything under it.
    matches: picomatch([entry.pattern, `${entry.pattern.replace(/\/+$/, "")}/**`], { dot: true }),
  }));
  for (const relative of copied) {
    const target = path.join(worktree, relative);
    const inContext = relative.startsWith(`${CONTEXT_DIR}/`);
    const sourceRelative = inContext ? relative.slice(CONTEXT_DIR.length + 1) : relative;
    const source = path.join(root, sourceRelative);
    const mode = inContext
      ? "copy"
      : (matchers.find((matcher) => matcher.matches(relative))?.mode ?? "copy");
    const standing = entryStats(target);
    // A file in its place stays (edited or not); anything else is not what the copy made: the
    // agent of the try before may have left a link to a file outside, or a FIFO, which the next
    // try would read or write through. It goes, as for context files (a directory is refused).
    if (standing !== undefined && isAsPlaced(standing, target, source, mode)) continue;
    if (!existsSync(source)) continue; // gone from the main checkout meanwhile
    await assertInside(realRoot, source, sourceRelative);
    await assertRegular(source, sourceRelative);
    makeFolderInside(realWorktree, path.dirname(target), relative);
    if (standing !== undefined) await clearForNewFile(target);
    await placeFile(source, target, mode);
    restored.push(relative);
  }
  return restored;
}

/** Whether `target` (its lstat `standing`) is what {@link placeFile} makes from `source`. */
function isAsPlaced(
  standing: Stats,
  target: string,
  source: string,
  mode: CopyEntry["mode"],
): boolean {
  if (mode !== "symlink") return standing.isFile();
  if (!standing.isSymbolicLink()) return false;
  try {
    return readlinkSync(target) === source;
  } catch {
    return false;
  }
}

/**
 * Places the `context` globs under the worktree's `.context/` folder, keeping their relative
 * paths, so that every agent finds the same durable context. Returns the relative paths placed.
 */
export async function placeContextFiles(
  root: string,
  worktree: string,
  patterns: readonly string[],
  matches: SourceMatches = new Map(),
): Promise<string[]> {
  const placed: string[] = [];
  const realRoot = realpathSync.native(root);
  const realWorktree = realpathSync.native(worktree);
  for (const pattern of patterns) {
    for (const relative of await matchesOf(matches, root, pattern)) {
      const source = path.join(root, relative);
      await assertInside(realRoot, source, relative);
      await assertRegular(source, relative);
      const target = path.join(worktree, CONTEXT_DIR, relative);
      makeFolderInside(realWorktree, path.dirname(target), relative);
      // The agent has had the worktree (a follow-up, a resume): what is in place of a context file
      // may be a FIFO, or a link to one or to a file outside, which writing through would block on
      // or change. Whatever it is goes (a directory is refused), and the copy makes a new file.
      await clearForNewFile(target);
      await copy(source, target, constants.COPYFILE_EXCL);
      placed.push(path.posix.join(CONTEXT_DIR, relative));
    }
  }
  return placed;
}

/** The files the `copy` globs match in the main checkout (relative paths), before any is copied. */
export async function filesToCopy(root: string, entries: readonly CopyEntry[]): Promise<string[]> {
  const files: string[] = [];
  for (const entry of entries) files.push(...(await matchFiles(root, entry.pattern)));
  return files;
}

/**
 * Glob matches in the main checkout by pattern. The workspaces of one run share one (see the
 * copy step): globbing the checkout again for each workspace was a few ms of CPU apiece.
 */
export type SourceMatches = Map<string, Promise<string[]>>;

function matchesOf(matches: SourceMatches, root: string, pattern: string): Promise<string[]> {
  let found = matches.get(pattern);
  if (found === undefined) {
    found = matchFiles(root, pattern);
    matches.set(pattern, found);
  }
  return found;
}

/**
 * The files a `copy` or `context` pattern names (see {@link matchRepositoryFiles}). A link out of
 * the repository among them, or on the way to them, is refused: the config was checked for these
 * when it was loaded, so one here appeared since.
 */
async function matchFiles(root: string, written: string): Promise<string[]> {
  const { files, linksOut } = await matchRepositoryFiles(root, written);
  const [out] = linksOut;
  if (out !== undefined) {
    throw new OperationError(
      `${out.path} links to ${out.target}, outside the repository; refusing to copy it`,
    );
  }
  return files;
}

async function assertInside(realRoot: string, source: string, relative: string): Promise<void> {
  const place = realPlaceOf(realRoot, source);
  if (place !== undefined && !place.inside) {
    throw new OperationError(
      `${relative} links to ${place.real}, outside the repository; refusing to copy it`,
    );
  }
}

/** Only regular files are copied: reading a FIFO or a device would block or never end. */
async function assertRegular(source: string, relative: string): Promise<void> {
  const kind = await targetKindOf(source);
  if (kind !== "file") {
    throw new OperationError(
      `${relative} is ${describeKind(kind)}, not a regular file; refusing to copy it`,
    );
  }
}

async function placeFile(source: string, target: string, mode: CopyEntry["mode"]): Promise<void> {
  if (mode === "symlink") symlinkSync(source, target);
  // FICLONE asks for copy-on-write and falls back to a plain copy where the filesystem cannot.
  else if (mode === "clone")
    await copy(source, target, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
  else await copy(source, target, constants.COPYFILE_EXCL);
}

/** Files up to this size are copied synchronously (see {@link copy}). */
const SMALL_FILE_BYTES = 1024 * 1024;

/**
 * Copies one file. A small one (an `.env.local`, a context file) synchronously: a copy through
 * libuv's thread pool cost about 100 µs of CPU for a few bytes (measured, Node 20). A large one
 * in the pool, so that the live view and the other workspaces go on while it is copied.
 */
async function copy(source: string, target: string, flags: number): Promise<void> {
  if (statSync(source).size <= SMALL_FILE_BYTES) copyFileSync(source, target, flags);
  else await copyFile(source, target, flags);
}

/**
 * Makes `folder` (the folder of a file to place, `relative` to the worktree) unless the way there
 * leads out of the worktree: the agent has had the worktree (a follow-up, a resume), and a folder
 * it replaced with a link (`config -> /elsewhere`) would take the file, a secret perhaps, there.
 * The nearest part of the way that exists is resolved before anything is made.
 */
function makeFolderInside(realWorktree: string, folder: string, relative: string): void {
  let existing = folder;
  while (!entryExists(existing)) existing = path.dirname(existing);
  let real: string | undefined;
  try {
    real = realpathSync.native(existing);
  } catch {
    real = undefined; // a dangling link, or a file where a folder should be
  }
  if (real === undefined || !isInside(realWorktree, real)) {
    throw new OperationError(
      `the folder of ${relative} in the workspace leads ${real === undefined ? "nowhere (a link or a file in the way)" : `to ${real}, outside the worktree`}; refusing to place it there`,
    );
  }
  mkdirSync(folder, { recursive: true });
}
