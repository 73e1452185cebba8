import path from "node:path";
import { runGitScript } from "./run-git.js";

/**
 * Where git looks for the `post-checkout` hook of a repository's worktrees, asked once per run:
 * conductor checks out every new worktree itself (see `addWorktree`) and runs the hook as
 * `git worktree add` would, but only when there is one, since asking git in each worktree costs
 * a process each time.
 *
 * Git looks in `core.hooksPath` when it is set (a relative one, like husky's `.husky`, is taken
 * from the top of the worktree the hook runs in, so it stays relative here), else in the
 * repository's common `hooks/` folder.
 */
export class CheckoutHook {
  private found: Promise<string> | undefined;

  constructor(private readonly root: string) {}

  /** The hook's path: absolute, or relative to the top of a worktree. */
  path(): Promise<string> {
    this.found ??= findPostCheckoutHook(this.root);
    return this.found;
  }
}

/** The common git folder, then `core.hooksPath` (`~` expanded) or an empty line. */
const HOOKS_SCRIPT = `git rev-parse --path-format=absolute --git-common-dir
git config --type=path --get core.hooksPath || echo
`;

async function findPostCheckoutHook(root: string): Promise<string> {
  const [commonDir = "", hooksPath = ""] = (await runGitScript(root, HOOKS_SCRIPT, [])).split("\n");
  const folder = hooksPath === "" ? path.join(commonDir, "hooks") : hooksPath;
  return path.join(folder, "post-checkout");
}
