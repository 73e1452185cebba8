import path from "node:path";
import { isStrictlyInside } from "../fs/is-inside.js";
import type { PathIssue } from "../schema/zod-issues.js";

/**
 * Where worktrees may not go. Inside `.git` they corrupt the repository (worktrees under
 * `.git/refs/heads` are read as refs) or get git's own files committed; the repository root, a
 * folder that contains it, or a filesystem root put workspaces over the user's files (and
 * `clean` removes what it finds there); any folder inside the repository shows up in the main
 * checkout's status, is crawled by its tools and is matched by `copy:` globs, so it is refused too:
 * keep worktrees beside the repository (`../app-workspaces`) or in the default folder.
 */
export function workspacesDirProblem(dir: string, root: string): PathIssue | undefined {
  const problem = whyNot(path.resolve(dir), path.resolve(root));
  if (problem === undefined) return undefined;
  return {
    keyPath: ["workspaces", "dir"],
    at: "value",
    message: `${problem}; worktrees need a folder of their own outside the repository, such as ../${path.basename(root)}-workspaces, or leave workspaces.dir out for the default (~/.conductor/workspaces/…)`,
  };
}

function whyNot(dir: string, root: string): string | undefined {
  if (path.parse(dir).root === dir) return `${dir} is a filesystem root`;
  if (dir === root) return `${dir} is the repository itself`;
  if (inside(root, dir)) return `${dir} contains the repository`;
  const gitDir = path.join(root, ".git");
  if (dir === gitDir || inside(dir, gitDir)) return `${dir} is inside the repository's .git folder`;
  if (inside(dir, root)) return `${dir} is inside the repository`;
  return undefined;
}

/** Whether `inner` lies strictly inside `outer`. */
function inside(inner: string, outer: string): boolean {
  return isStrictlyInside(outer, inner);
}
