import path from "node:path";
import { runGitScript } from "./run-git.js";

/**
 * Where git looks for the `post-checkout` hook that `git worktree add` runs, asked once per run:
 * conductor checks out every new worktree itself (see `addWorktree`) and runs the hook as git's
 * add would, but only when there is one, since asking git in each worktree costs a process.
 *
 * Git looks in `core.hooksPath` when it is set, else in the repository's common `hooks/` folder.
 * A relative `core.hooksPath` (husky's `.husky`) is taken from where the add runs, the main
 * checkout, as git does there (not from the new worktree).
 */
export class CheckoutHook {
  private found: Promise<string> | undefined;

  constructor(private readonly root: string) {}

  /** The hook's absolute path (it may not exist). */
  path(): Promise<string> {
    if (this.found === undefined) {
      const found = findPostCheckoutHook(this.root);
      this.found = found;
      // A failed lookup (the pool's shell could not start) is asked again by the next add.
      found.catch(() => {
        if (this.found === found) this.found = undefined;
      });
    }
    return this.found;
  }
}

/** The common git folder, then `core.hooksPath` (`~` expanded) or an empty line. */
const HOOKS_SCRIPT = `git rev-parse --path-format=absolute --git-common-dir
git config --type=path --get core.hooksPath || echo
`;

async function findPostCheckoutHook(root: string): Promise<string> {
  const [commonDir = "", hooksPath = ""] = (await runGitScript(root, HOOKS_SCRIPT, [])).split("\n");
  const folder = hooksPath === "" ? path.join(commonDir, "hooks") : path.resolve(root, hooksPath);
  return path.join(folder, "post-checkout");
}
