import { IgnoredFilesInTheWayError, ignoredFilesInTheWay } from "./in-the-way.js";
import { statusPaths } from "./status-entries.js";
import { git } from "./worktree.js";

/**
 * Plumbing for landing work on a branch without a checkout: commits from trees, compare-and-swap
 * ref updates, and the safe update of a checkout that has the branch checked out.
 */

/** Writes a commit of `tree` with `parents` and `message`; returns its id. */
export async function commitTree(
  root: string,
  tree: string,
  parents: readonly string[],
  message: string,
): Promise<string> {
  const args = ["commit-tree", tree, ...parents.flatMap((parent) => ["-p", parent])];
  return (await git(root, [...args, "-m", message])).trim();
}

/**
 * Moves `refs/heads/<branch>` from `from` to `to`, only if it still points at `from`: a branch
 * someone moved in between makes git refuse, and nothing changes.
 */
export async function moveBranch(
  root: string,
  branch: string,
  to: string,
  from: string,
  reason: string,
): Promise<void> {
  await git(root, ["update-ref", "-m", reason, `refs/heads/${branch}`, to, from]);
}

/** Tracked paths of a checkout that differ from its HEAD (staged or not); untracked ones do not count. */
export async function trackedChanges(checkout: string): Promise<string[]> {
  const out = await git(checkout, ["status", "--porcelain=v1", "-z", "--untracked-files=no"]);
  return statusPaths(out);
}

/**
 * Brings a clean checkout's index and files from commit `from` to commit `to`
 * (`git read-tree -m -u`, the two-tree form `git checkout` uses): files that did not change
 * between them are left alone, and git refuses, changing nothing, when an untracked file would
 * be overwritten. git would replace an ignored file without a word, so that is refused first
 * ({@link IgnoredFilesInTheWayError}), changing nothing either.
 */
export async function switchCheckoutTree(
  checkout: string,
  from: string,
  to: string,
): Promise<void> {
  const ignored = await ignoredFilesInTheWay(checkout, from, to);
  if (ignored.length > 0) throw new IgnoredFilesInTheWayError(checkout, ignored);
  await git(checkout, ["update-index", "-q", "--refresh"]).catch(() => "");
  await git(checkout, ["read-tree", "-m", "-u", from, to]);
}
