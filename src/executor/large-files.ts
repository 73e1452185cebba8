import path from "node:path";
import { entryStats } from "../fs/regular-file.js";
import { isKeptPath, statusPaths } from "../git/status-entries.js";

/** A file too large to commit. */
export interface LargeFile {
  /** Path relative to the worktree. */
  file: string;
  bytes: number;
}

/**
 * The new or changed files of a worktree (what conductor is about to commit, `exclude`d paths
 * left out) larger than `limitBytes`. Sizes come from the files themselves (lstat: a symlink is
 * committed as a link, not as what it points to), before git has stored any of them. `status` is
 * the worktree's `worktreeStatus` (git/worktree.ts), just read. Each file is looked at
 * synchronously: an lstat costs a few microseconds, its trip through libuv's thread pool ten
 * times more (see src/fs/regular-file.ts).
 */
export async function filesTooLarge(
  worktree: string,
  exclude: readonly string[],
  limitBytes: number,
  status: string,
): Promise<LargeFile[]> {
  const large: LargeFile[] = [];
  for (const file of statusPaths(status)) {
    if (isKeptPath(file, exclude)) continue;
    const info = entryStats(path.join(worktree, file));
    if (info?.isFile() && info.size > limitBytes) large.push({ file, bytes: info.size });
  }
  return large;
}
