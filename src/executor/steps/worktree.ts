import { existsSync } from "node:fs";
import type { CheckoutHook } from "../../git/checkout-hook.js";
import { clearStaleLocks } from "../../git/stale-locks.js";
import {
  addWorktree,
  branchExists,
  checkoutPendingAt,
  checkoutWorktree,
  DependencyMergeError,
  finishCutOffCheckout,
  git,
  gitMessage,
  isBranchTaken,
  isCheckedOutElsewhere,
  isRegisteredWorktree,
  listWorktrees,
  localBranches,
  mergeMissing,
  pruneWorktree,
  samePath,
  unlockMissingPendingCheckout,
  WorktreeCheckoutError,
} from "../../git/worktree.js";
import { WorktreeLinkError } from "../../git/worktree-link.js";
import { WorktreeFolderTakenError } from "../../git/worktree-registration.js";
import { conductorCommand } from "../../hint/command.js";
import { shellCommand } from "../../hint/shell-quote.js";
import { startCommit as startCommitOf, type Workspace } from "../../planner/types.js";
import { repairOwnWorktreeLink } from "../worktree-link-check.js";
import type { StepContext, StepOutcome } from "./context.js";

/**
 * Creates the workspace's worktree and branch from its start point (the base commit, or the
 * branch of the dependency it builds on) and merges further dependencies in. A worktree made by
 * an earlier try or run is reused; a branch or folder from anything else is a conflict, never
 * silently reused or overwritten.
 */
export async function worktreeStep(ctx: StepContext): Promise<StepOutcome> {
  const { workspace } = ctx;
  const root = ctx.plan.repo.root;
  // A try of this step that failed before it could finish (on resume, git's lock files still
  // held) left the worktree and branch it made: they are recovered as after a cut-off.
  const fresh =
    !ctx.state().worktreeCreated &&
    !ctx.cutOff &&
    !(ctx.rerun && (await checkedOutAtItsPath(root, workspace)));
  // A worktree an agent of this run already had (a resumed run, a retry): its link to the
  // repository is put back before any git runs in it.
  if (!fresh && ctx.state().worktreeCreated && existsSync(workspace.path)) {
    try {
      const repairs = await repairOwnWorktreeLink(ctx);
      if (repairs.length > 0) return linkFailure(`${repairs.join("; ")}; nothing was run in it`);
    } catch (error) {
      if (!(error instanceof WorktreeLinkError)) throw error;
      return linkFailure(error.message);
    }
  }
  try {
    const problem = fresh
      ? await create(
          root,
          workspace,
          // A retry lists them again: its earlier try removed the branch it made.
          ctx.rerun ? await localBranches(root) : ctx.branchesAtStart,
          ctx.checkoutHook,
          (add) => ctx.queue.run(add),
        )
      : await ctx.queue.run(async () => {
          if (ctx.state().worktreeCreated) return reattach(root, workspace);
          // A conductor killed during this step may have made the branch and worktree without
          // recording it; they are this workspace's own, not a conflict, when they hold no work yet.
          if (await leftByCutOffStep(root, workspace)) return reattach(root, workspace);
          if (await registeredBeforeItsBranch(root, workspace)) {
            // Killed before the checkout made the branch: finished below where the folder is;
            // a registration whose folder was never put in place is cleared for a new add.
            if (existsSync(workspace.path)) return undefined;
            await unlockMissingPendingCheckout(root, workspace.path);
            await pruneWorktree(root, workspace.path);
          }
          // Checked again now: the list of branches from the run's start may be out of date.
          return create(root, workspace, await localBranches(root), ctx.checkoutHook, (add) =>
            add(),
          );
        });
    if (problem)
      return {
        status: "failed",
        failure: { reason: "conflict", step: "worktree", message: problem },
      };
    if (!fresh) {
      // A conductor killed during a git command left that command's lock behind.
      const locks = await clearStaleLocks(workspace.path, workspace.branch);
      if (locks.held.length > 0)
        return gitFailure(
          `git lock files in the worktree are still held: ${locks.held.join("; ")}; wait for that git to finish (or end it), then resume`,
        );
      // Killed before the new worktree's checkout was done (it is still locked for it).
      if (!ctx.state().worktreeCreated)
        await finishCutOffCheckout(
          root,
          { branch: workspace.branch, path: workspace.path, startPoint: startPointOf(workspace) },
          { hook: ctx.checkoutHook, serialize: (change) => ctx.queue.run(change) },
        );
    }
  } catch (error) {
    return gitFailure(`could not create the worktree: ${gitMessage(error)}`);
  }
  const made = { step: "worktree" as const, path: workspace.path, branch: workspace.branch };
  let merged: number;
  try {
    // Only dependencies not merged yet: a retry, or a resume after the user resolved a conflict.
    merged = await mergeMissing(workspace.path, workspace.mergeBranches);
  } catch (error) {
    // The worktree exists: recorded as made, so that a retry or resume reuses it.
    const head = (await git(workspace.path, ["rev-parse", "HEAD"])).trim();
    return {
      ...gitFailure(
        error instanceof DependencyMergeError
          ? // git's own merge was undone: the worktree is clean, so the fix starts with the merge.
            `merging ${error.branch} into ${workspace.branch} failed (${gitMessage(error)}); the merge was undone: merge it by hand (${shellCommand(["git", "-C", workspace.path, "merge", error.branch])}), resolve the conflicts, commit, then resume`
          : `merging ${workspace.mergeBranches.join(", ")} into ${workspace.branch} failed (${gitMessage(error)}); resolve it in ${workspace.path}, commit, then resume`,
      ),
      result: { ...made, startCommit: ctx.state().startCommit ?? head },
    };
  }
  // A worktree just made from a pinned commit is at that commit: no need to ask git. (An existing
  // branch it continues on may have moved since the plan was made.)
  const pinned =
    workspace.startPoint.kind !== "branch" ? startCommitOf(workspace.startPoint) : undefined;
  const startCommit =
    merged === 0 && ctx.state().startCommit !== undefined
      ? ctx.state().startCommit
      : fresh && pinned !== undefined && workspace.mergeBranches.length === 0
        ? pinned
        : (await git(workspace.path, ["rev-parse", "HEAD"])).trim();
  return { status: "succeeded", result: { ...made, startCommit: startCommit as string } };
}

/**
 * Creates worktree and branch; returns a conflict message instead when either already exists.
 * Only what collides with other adds goes through `serialize` (the metadata queue; see
 * `addWorktree`: git's own add where conductor does not write the registration itself, and the
 * post-checkout hook): the checks before it only read, a plan's branches and paths are distinct,
 * and the queue does not order other processes' git commands anyway. Queueing them too made every
 * add wait for one more git process.
 */
async function create(
  root: string,
  workspace: Workspace,
  branches: ReadonlySet<string>,
  hook: CheckoutHook,
  serialize: (add: () => Promise<void>) => Promise<void>,
): Promise<string | undefined> {
  // Earlier runs' branches and folders were set aside before this run started: what is in the
  // way now was made since, by another conductor or by hand.
  const runs = `\`${conductorCommand(["runs"])}\` shows the runs`;
  const branchTaken = `branch ${workspace.branch} was created by another process while this run was starting; ${runs}`;
  // The run listed the branches once when it started (one git process for the whole plan); a
  // branch made since by another process makes git's add refuse, which is reported the same way.
  const continuing = workspace.startPoint.kind === "branch";
  if (branches.has(workspace.branch) && !continuing) return branchTaken;
  if (existsSync(workspace.path)) {
    return `${workspace.path} was created by another process while this run was starting; ${runs}`;
  }
  if (continuing) {
    // The user's own branch: checked out as it is, never created, never deleted on failure.
    if (!branches.has(workspace.branch)) {
      return `branch ${workspace.branch} (tasks' branch:) no longer exists; create it again or remove branch: from the task`;
    }
    try {
      await serialize(() =>
        checkoutWorktree(root, { branch: workspace.branch, path: workspace.path }),
      );
    } catch (error) {
      if (isCheckedOutElsewhere(error))
        return `branch ${workspace.branch} is checked out in another worktree now: ${gitMessage(error)}`;
      throw error;
    }
    return undefined;
  }
  try {
    await addWorktree(
      root,
      { branch: workspace.branch, path: workspace.path, startPoint: startPointOf(workspace) },
      { hook, serialize },
    );
  } catch (error) {
    // A failed checkout or hook may print anything: only git's add itself tells a taken branch.
    if (!(error instanceof WorktreeCheckoutError) && isBranchTaken(error)) return branchTaken;
    // Another process made a worktree there first, or one is still registered there.
    if (error instanceof WorktreeFolderTakenError)
      return existsSync(workspace.path)
        ? `${workspace.path} was created by another process while this run was starting; ${runs}`
        : error.message;
    throw error;
  }
  return undefined;
}

/** Where a new workspace's branch starts: its base commit, or the branch it builds on. */
function startPointOf(workspace: Workspace): string {
  return startCommitOf(workspace.startPoint) ?? (workspace.startPoint as { branch: string }).branch;
}

/**
 * Whether the workspace's cut-off worktree step registered its worktree and was killed before the
 * checkout made the branch (see `addWorktree`): no such branch, and a worktree registered at the
 * workspace's path, on that branch, still locked for its checkout.
 */
async function registeredBeforeItsBranch(root: string, workspace: Workspace): Promise<boolean> {
  if (await branchExists(root, workspace.branch)) return false;
  return checkoutPendingAt(await listWorktrees(root), workspace);
}

/**
 * Whether the branch (and worktree) at the workspace's place are what its cut-off worktree step
 * made: the branch has no commits of its own besides merges of its start point and further
 * dependencies, and it is checked out at the workspace's path or nowhere.
 */
async function leftByCutOffStep(root: string, workspace: Workspace): Promise<boolean> {
  if (!(await branchExists(root, workspace.branch))) return false;
  const startPoint =
    workspace.startPoint.kind === "workspace" || workspace.startPoint.kind === "winner"
      ? `refs/heads/${workspace.startPoint.branch}`
      : workspace.startPoint.commit;
  const own = await git(root, [
    "rev-list",
    "--count",
    "--no-merges",
    `refs/heads/${workspace.branch}`,
    "--not",
    startPoint,
    ...workspace.mergeBranches.map((branch) => `refs/heads/${branch}`),
  ]);
  if (Number(own.trim()) !== 0) return false;
  const checkedOutAt = (await listWorktrees(root)).filter(
    (entry) => entry.branch === workspace.branch,
  );
  return checkedOutAt.every((entry) => samePath(entry.path, workspace.path));
}

/** Whether the workspace's branch is checked out at the workspace's own path. */
async function checkedOutAtItsPath(root: string, workspace: Workspace): Promise<boolean> {
  return (await listWorktrees(root)).some(
    (entry) => entry.branch === workspace.branch && samePath(entry.path, workspace.path),
  );
}

/** Reuses the worktree of an earlier try; brings it back from its branch if its folder was removed. */
async function reattach(root: string, workspace: Workspace): Promise<string | undefined> {
  if (existsSync(workspace.path) && (await isRegisteredWorktree(root, workspace.path)))
    return undefined;
  if (existsSync(workspace.path)) {
    return `${workspace.path} exists but is no longer a worktree of this repository; move it away, then resume`;
  }
  if (!(await branchExists(root, workspace.branch))) {
    return `the worktree and branch ${workspace.branch} of an earlier try are gone; start a new run`;
  }
  await unlockMissingPendingCheckout(root, workspace.path);
  await pruneWorktree(root, workspace.path);
  await git(root, ["worktree", "add", "--quiet", workspace.path, workspace.branch]);
  return undefined;
}

function gitFailure(message: string): Extract<StepOutcome, { status: "failed" }> {
  return { status: "failed", failure: { reason: "git-error", step: "worktree", message } };
}

/** The worktree's link to the repository was changed: an integrity failure, never retried. */
function linkFailure(message: string): Extract<StepOutcome, { status: "failed" }> {
  return { status: "failed", failure: { reason: "integrity", step: "worktree", message } };
}
