import path from "node:path";
import { CheckoutHook } from "../../src/git/checkout-hook.js";
import { addWorktree } from "../../src/git/worktree.js";

/**
 * Makes the worktree a run's first workspace gets: `ws/one` beside the repository at `root`, on a
 * new branch `conductor/one` from main, with the repository's checkout hook. Returns its path.
 */
export async function addFirstWorkspace(root: string): Promise<string> {
  const worktree = path.join(path.dirname(root), "ws", "one");
  await addWorktree(
    root,
    { branch: "conductor/one", path: worktree, startPoint: "main" },
    { hook: new CheckoutHook(root) },
  );
  return worktree;
}
