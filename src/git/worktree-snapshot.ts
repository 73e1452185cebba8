import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { addEverything } from "./add-everything.js";
import { runGit, runGitExpecting } from "./run-git.js";

/**
 * What a read-only visitor of a worktree (a reviewing agent) must leave as it found it: where
 * HEAD points, the branch's commit, the index, and the content of every file git sees (tracked
 * and untracked, not ignored), as trees written to the object store. Two snapshots compare in
 * a few string comparisons, and a snapshot can be put back exactly.
 */
export interface WorktreeSnapshot {
  /** `refs/heads/…` HEAD points through, or "" when it is detached. */
  headRef: string;
  /** The commit HEAD resolves to. */
  head: string;
  /** Tree of the index. */
  index: string;
  /** Tree of the files as they are on disk (tracked and untracked, ignored files left out). */
  files: string;
}

/** Takes a snapshot of `worktree`; writes only objects, never a ref, the index or a file. */
export async function snapshotWorktree(worktree: string): Promise<WorktreeSnapshot> {
  const headRef = (
    await runGitExpecting(worktree, ["symbolic-ref", "-q", "HEAD"], [0, 1])
  ).stdout.trim();
  const head = (await runGit(worktree, ["rev-parse", "--verify", "HEAD^{commit}"])).trim();
  const index = (await runGit(worktree, ["write-tree"])).trim();
  const files = await withTemporaryIndex(async (env) => {
    await runGit(worktree, ["read-tree", "HEAD"], { env });
    await addEverything(worktree, ".", env);
    return (await runGit(worktree, ["write-tree"], { env })).trim();
  });
  return { headRef, head, index, files };
}

/** What differs between two snapshots, in words; empty when nothing does. */
export function snapshotChanges(before: WorktreeSnapshot, after: WorktreeSnapshot): string[] {
  const changes: string[] = [];
  if (before.headRef !== after.headRef) {
    changes.push(
      `HEAD moved from ${before.headRef || "a detached HEAD"} to ${after.headRef || "a detached HEAD"}`,
    );
  }
  if (before.head !== after.head) {
    changes.push(`HEAD moved from ${before.head.slice(0, 10)} to ${after.head.slice(0, 10)}`);
  }
  if (before.index !== after.index) changes.push("the index changed");
  if (before.files !== after.files) changes.push("files changed");
  return changes;
}

/** Paths whose content differs between the files of two snapshots. */
export async function changedFiles(
  worktree: string,
  before: WorktreeSnapshot,
  after: WorktreeSnapshot,
): Promise<string[]> {
  if (before.files === after.files) return [];
  const out = await runGit(worktree, [
    "diff-tree",
    "-r",
    "--name-only",
    "-z",
    before.files,
    after.files,
  ]);
  return out.split("\0").filter(Boolean);
}

/**
 * Puts a worktree back as `snapshot` recorded it: its branch and HEAD, every file git sees
 * (changed ones rewritten, new ones removed, removed ones restored), then the index. `branch`
 * is the only ref moved back, and only from `moved` (compare-and-swap).
 */
export async function restoreWorktree(
  worktree: string,
  snapshot: WorktreeSnapshot,
  current: WorktreeSnapshot,
): Promise<void> {
  if (snapshot.headRef !== "" && current.headRef !== snapshot.headRef) {
    await runGit(worktree, ["symbolic-ref", "HEAD", snapshot.headRef]);
  }
  const headNow = (await runGit(worktree, ["rev-parse", "--verify", "HEAD^{commit}"])).trim();
  if (headNow !== snapshot.head) {
    if (snapshot.headRef === "") {
      await runGit(worktree, ["update-ref", "--no-deref", "HEAD", snapshot.head, headNow]);
    } else {
      await runGit(worktree, ["update-ref", snapshot.headRef, snapshot.head, headNow]);
    }
  }
  // A one-way merge from what is on disk now to what was there, through a temporary index:
  // -u rewrites the files that differ and removes the ones the snapshot did not have.
  await withTemporaryIndex(async (env) => {
    await runGit(worktree, ["read-tree", current.files], { env });
    await runGit(worktree, ["read-tree", "--reset", "-u", snapshot.files], { env });
  });
  await runGit(worktree, ["read-tree", snapshot.index]);
}

async function withTemporaryIndex<T>(
  work: (env: Record<string, string>) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "conductor-index-"));
  try {
    return await work({ GIT_INDEX_FILE: path.join(dir, "index") });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
