import { runGit, runGitExpecting } from "./run-git.js";

/** What `git merge-tree --write-tree` says about merging two commits, no checkout touched. */
export interface MergeTreeResult {
  /** Whether the merge has no conflicts. */
  clean: boolean;
  /** The merged tree (with conflict markers in conflicted files when not clean). */
  tree: string;
  /** Paths with conflicts, sorted; empty when clean. */
  conflicts: string[];
}

/**
 * Merges `ours` and `theirs` in git's object store only: `git merge-tree --write-tree
 * --name-only --no-messages` (git ≥ 2.38). Exit 0 is a clean merge, exit 1 a conflicted one (the
 * tree and the conflicted paths are printed either way); anything else is an error.
 */
export async function mergeTree(
  root: string,
  ours: string,
  theirs: string,
): Promise<MergeTreeResult> {
  const { exitCode, stdout } = await runGitExpecting(
    root,
    ["merge-tree", "--write-tree", "--name-only", "--no-messages", ours, theirs],
    [0, 1],
  );
  const [tree = "", ...paths] = stdout.split("\n");
  const conflicts = [...new Set(paths.filter((line) => line !== ""))].sort();
  return { clean: exitCode === 0, tree, conflicts };
}

/** The tree of `commit`. */
export async function treeOf(root: string, commit: string): Promise<string> {
  return (await runGit(root, ["rev-parse", "--verify", `${commit}^{tree}`])).trim();
}

/**
 * For each of `heads`, every path that a commit of `start..head` touched (a rename as its two
 * paths; a merge commit as its diff to the first parent), or undefined when `start` is not an
 * ancestor of that head (then nothing can be concluded from it). One `git log` for all heads:
 * the commits come once each with their parents, and each head's share is found by walking them.
 */
export async function touchedPathsByHead(
  root: string,
  start: string,
  heads: readonly string[],
): Promise<Map<string, Set<string> | undefined>> {
  const out = await runGit(root, [
    "log",
    "--no-renames",
    "--diff-merges=first-parent",
    "--name-only",
    "--format=%x01%H %P",
    `^${start}`,
    ...new Set(heads),
    "--",
  ]);
  const commits = new Map<string, { parents: string[]; files: string[] }>();
  for (const chunk of out.split("\x01").slice(1)) {
    const [header = "", ...files] = chunk.split("\n");
    const [sha = "", ...parents] = header.split(" ").filter(Boolean);
    commits.set(sha, { parents, files: files.filter((line) => line !== "") });
  }
  const result = new Map<string, Set<string> | undefined>();
  for (const head of heads) {
    if (result.has(head)) continue;
    const files = new Set<string>();
    let reachesStart = head === start;
    const seen = new Set<string>();
    const stack = [head];
    while (stack.length > 0) {
      const sha = stack.pop() as string;
      if (seen.has(sha)) continue;
      seen.add(sha);
      const commit = commits.get(sha);
      // Commits outside the listing are reachable from start: the walk stops there.
      if (commit === undefined) continue;
      for (const file of commit.files) files.add(file);
      for (const parent of commit.parents) {
        if (parent === start) reachesStart = true;
        stack.push(parent);
      }
    }
    result.set(head, reachesStart ? files : undefined);
  }
  return result;
}
