import type { FoundWorkspace } from "../executor/find-workspace.js";
import { branchExists, git, uncommittedPaths } from "../git/worktree.js";

/** Work that removing a workspace would destroy. */
export interface Losses {
  /** Uncommitted paths in the worktree (copied files and .context/ do not count). */
  uncommitted: string[];
  /** Commits of the branch reachable from neither the base nor any remote-tracking branch. */
  unmergedCommits: number;
}

/** Files named in a refusal before the list is cut short. */
const LISTED_FILES = 10;

/**
 * What archiving (or cleaning) a workspace would lose: its uncommitted changes when its worktree
 * is there, and with `deleteBranch` the commits that exist only on its branch.
 */
export async function whatWouldBeLost(
  found: FoundWorkspace,
  options: { worktreePresent: boolean; deleteBranch: boolean },
): Promise<Losses> {
  const { workspace, state } = found;
  const uncommitted = options.worktreePresent
    ? // Copied env files and the context folder came from the main checkout: nothing is lost.
      await uncommittedPaths(workspace.path, [...state.copied, ".context"])
    : [];
  const unmergedCommits = options.deleteBranch ? await commitsOnlyOnBranch(found) : 0;
  return { uncommitted, unmergedCommits };
}

/** Whether anything would be lost. */
export function losesWork(losses: Losses): boolean {
  return losses.uncommitted.length > 0 || losses.unmergedCommits > 0;
}

/** `3 uncommitted files: a, b, c` and `2 commits not on main or any remote`, as lines. */
export function describeLosses(found: FoundWorkspace, losses: Losses): string[] {
  const lines: string[] = [];
  const { uncommitted, unmergedCommits } = losses;
  if (uncommitted.length > 0) {
    const shown = uncommitted.slice(0, LISTED_FILES).join(", ");
    const more =
      uncommitted.length > LISTED_FILES ? `, … (${uncommitted.length - LISTED_FILES} more)` : "";
    lines.push(
      `${uncommitted.length} uncommitted file${uncommitted.length === 1 ? "" : "s"}: ${shown}${more}`,
    );
  }
  if (unmergedCommits > 0) {
    lines.push(
      `${unmergedCommits} commit${unmergedCommits === 1 ? "" : "s"} not on ${found.run.plan.base.ref} or any remote (branch ${found.workspace.branch})`,
    );
  }
  return lines;
}

/**
 * Commits of the workspace's branch that no other safe place has: not reachable from the base
 * commit, the base and default branches as they are now (the work may have been merged since),
 * or any remote-tracking branch.
 */
async function commitsOnlyOnBranch(found: FoundWorkspace): Promise<number> {
  const { plan } = found.run;
  const root = plan.repo.root;
  if (!(await branchExists(root, found.workspace.branch))) return 0;
  const safe = [plan.base.commit];
  for (const branch of new Set([plan.base.ref, plan.repo.defaultBranch])) {
    if (await branchExists(root, branch)) safe.push(`refs/heads/${branch}`);
  }
  const out = await git(root, [
    "rev-list",
    "--count",
    `refs/heads/${found.workspace.branch}`,
    "--not",
    ...safe,
    "--remotes",
  ]);
  return Number(out.trim()) || 0;
}
