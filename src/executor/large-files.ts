import { lstat } from "node:fs/promises";
import path from "node:path";
import { runGit } from "../git/run-git.js";
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
 * the worktree's `git status --porcelain=v1 -z --untracked-files=all --no-renames` when it was
 * just read and nothing changed the worktree since; otherwise it is read here.
 */
export async function filesTooLarge(
  worktree: string,
  exclude: readonly string[],
  limitBytes: number,
  status?: string,
): Promise<LargeFile[]> {
  const out =
    status ??
    (await runGit(worktree, [
      "status",
      "--porcelain=v1",
      "-z",
      "--untracked-files=all",
      "--no-renames",
    ]));
  const large: LargeFile[] = [];
  for (const file of statusPaths(out)) {
    if (isKeptPath(file, exclude)) continue;
    const info = await lstat(path.join(worktree, file)).catch(() => undefined);
    if (info?.isFile() && info.size > limitBytes) large.push({ file, bytes: info.size });
  }
  return large;
}
