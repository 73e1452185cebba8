import { snapshotRefs } from "./integrity.js";
import { branchExists, git } from "./worktree.js";

/**
 * Gives a branch a new name (`git branch -m`, which moves its reflog too and follows it in the
 * worktree that has it checked out). Never overwrites: a taken name is an error and nothing
 * changes, so no commit can be lost. A move already made (the old name gone, the new one there,
 * as after a conductor killed right after it) is not repeated.
 */
export async function moveBranch(root: string, from: string, to: string): Promise<void> {
  if (from === to) return;
  if (!(await branchExists(root, from)) && (await branchExists(root, to))) return;
  await git(root, ["branch", "-m", from, to]);
}

/** What `refs/heads/<name>` holds for each of `names` (undefined where there is no such branch). */
export async function branchValues(
  root: string,
  names: readonly string[],
): Promise<Map<string, string | undefined>> {
  const refs = names.map((name) => `refs/heads/${name}`);
  const found = await snapshotRefs(root, refs);
  return new Map(refs.map((ref) => [ref, found.get(ref)?.oid]));
}
