import { resetWorktree, saveWork } from "../git/worktree.js";
import { WorktreeLinkError } from "../git/worktree-link.js";
import { keptOutOfCommits, restoreCopiedFiles } from "./copy-files.js";
import type { StepContext } from "./steps/context.js";
import { repairOwnWorktreeLink } from "./worktree-link-check.js";

/**
 * Brings a workspace's worktree back to its branch's commit, its uncommitted changes first kept
 * on `ref` (copied files, `.context/` and seeded folders left out), then puts back the copied
 * files the reset removed. For a try that starts afresh and for a branch put back after a
 * rewrite. `kept` hears of the commit that keeps the changes, if there were any, before the reset.
 * Resolves with that commit (undefined when there were none).
 */
export async function resetKeepingWork(
  ctx: StepContext,
  saved: { ref: string; message: string },
  kept?: (commit: string) => Promise<void>,
): Promise<string | undefined> {
  const state = ctx.state();
  const worktree = ctx.workspace.path;
  // An agent of a try whose check never ran (conductor was killed) may have redirected it.
  const linkRepairs = await repairOwnWorktreeLink(ctx);
  if (linkRepairs.length > 0) throw new WorktreeLinkError(linkRepairs.join("; "));
  const commit = await saveWork(worktree, {
    ...saved,
    exclude: keptOutOfCommits(state.copied, state.seed?.folders),
  });
  if (commit !== undefined) await kept?.(commit);
  await resetWorktree(worktree);
  await restoreCopiedFiles(ctx.plan.repo.root, worktree, state.copied, ctx.plan.copy);
  return commit;
}
