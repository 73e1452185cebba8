import { randomUUID } from "node:crypto";
import { copyFile, rm } from "node:fs/promises";
import path from "node:path";
import { addEverything } from "../git/add-everything.js";
import { runGit } from "../git/run-git.js";
import { TEMPORARY_INDEX_PREFIX } from "./marker.js";

/**
 * The git plumbing of Spotlight. Every step works on a temporary index (GIT_INDEX_FILE): the
 * user's own index is read (copied), never written.
 */

/** A checkout's content as a tree, with the temporary index that holds it (stat data fresh). */
export interface CheckoutSnapshot {
  /** Tree of every file that is not ignored: tracked files as on disk, untracked ones too. */
  tree: string;
  /** A temporary index equal to `tree`, matching the files on disk; remove with {@link dropIndex}. */
  indexFile: string;
}

/** The absolute path git gives for `name` inside a checkout's git directory (`index`, …). */
export async function gitPath(
  dir: string,
  name: string,
  pinned: Readonly<Record<string, string>> = {},
): Promise<string> {
  return (
    await runGit(dir, ["rev-parse", "--path-format=absolute", "--git-path", name], { env: pinned })
  ).trim();
}

/**
 * GIT_DIR and GIT_WORK_TREE for a worktree whose git folder is `gitDir` (see
 * `worktreeGitDir`): git then never reads the worktree's `.git`. Nothing for the main checkout.
 */
function pinnedTo(dir: string, gitDir: string | undefined): Record<string, string> {
  return gitDir === undefined ? {} : { GIT_DIR: gitDir, GIT_WORK_TREE: dir };
}

/**
 * Snapshots a checkout's files without touching its index: a copy of its index (so files tracked
 * despite an ignore rule stay in), set to `expected` when given (so files that tracked content
 * had stay tracked even if a changed .gitignore now ignores them), then `git add -A`. The copy
 * lives beside the real index: a split index names its shared part relative to that folder.
 * `exclude`d paths (a workspace's seeded folders) are left out. A workspace's worktree is read
 * through its `gitDir`, never its `.git` (see {@link pinnedTo}).
 */
export async function snapshotCheckout(
  dir: string,
  expected?: string,
  exclude: readonly string[] = [],
  gitDir?: string,
): Promise<CheckoutSnapshot> {
  const pinned = pinnedTo(dir, gitDir);
  const real = await gitPath(dir, "index", pinned);
  const indexFile = path.join(path.dirname(real), `${TEMPORARY_INDEX_PREFIX}${randomUUID()}.index`);
  const env = { ...pinned, GIT_INDEX_FILE: indexFile };
  try {
    await copyFile(real, indexFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  try {
    // --reset keeps the stat data of unchanged entries (add -A then hashes only edits) and,
    // unlike -m, accepts entries that differ from the files on disk.
    if (expected !== undefined) await runGit(dir, ["read-tree", "--reset", expected], { env });
    await addEverything(dir, ":/", env);
    // Removed after adding: an exclude pathspec makes `git add` fail when the path is ignored.
    if (exclude.length > 0) {
      await runGit(
        dir,
        [
          "rm",
          "--cached",
          "-r",
          "-q",
          "--ignore-unmatch",
          "--",
          ...exclude.map((entry) => `:(top,literal)${entry}`),
        ],
        { env },
      );
    }
    const tree = (await runGit(dir, ["write-tree"], { env })).trim();
    return { tree, indexFile };
  } catch (error) {
    await dropIndex(indexFile);
    throw error;
  }
}

/** Removes a temporary index. */
export async function dropIndex(indexFile: string): Promise<void> {
  await rm(indexFile, { force: true });
}

/**
 * The tree of a checkout's index as it is (what is staged), from a copy of it; undefined when the
 * index has unmerged entries (a merge or rebase stopped on a conflict).
 */
export async function stagedTree(dir: string): Promise<string | undefined> {
  const real = await gitPath(dir, "index");
  const indexFile = path.join(path.dirname(real), `${TEMPORARY_INDEX_PREFIX}${randomUUID()}.index`);
  try {
    await copyFile(real, indexFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  try {
    const unmerged = await runGit(dir, ["ls-files", "--unmerged"], {
      env: { GIT_INDEX_FILE: indexFile },
    });
    if (unmerged.trim() !== "") return undefined;
    return (await runGit(dir, ["write-tree"], { env: { GIT_INDEX_FILE: indexFile } })).trim();
  } finally {
    await dropIndex(indexFile);
  }
}

/** A commit of `tree` with `parents`, made with plumbing (no ref moves). */
export async function commitTree(
  dir: string,
  tree: string,
  parents: readonly string[],
  message: string,
): Promise<string> {
  const args = ["commit-tree", tree, ...parents.flatMap((parent) => ["-p", parent]), "-m", message];
  return (await runGit(dir, args)).trim();
}

/**
 * Moves a checkout's files from tree `from` to tree `to` with `git read-tree -m -u` on the
 * temporary index that holds `from` (see {@link snapshotCheckout}): only paths that differ are
 * written or removed, modes and links included, and git refuses before writing anything when an
 * untracked (ignored) file is in the way.
 */
export async function moveCheckout(
  dir: string,
  indexFile: string,
  from: string,
  to: string,
): Promise<void> {
  if (from === to) return;
  await runGit(dir, ["read-tree", "-m", "-u", from, to], { env: { GIT_INDEX_FILE: indexFile } });
}
