import { existsSync } from "node:fs";
import {
  addWorktree,
  branchExists,
  git,
  gitMessage,
  isRegisteredWorktree,
  mergeInto,
} from "../../git/worktree.js";
import type { Workspace } from "../../planner/types.js";
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
  try {
    const problem = await ctx.queue.run(() =>
      ctx.state().worktreeCreated ? reattach(root, workspace) : create(root, workspace),
    );
    if (problem)
      return {
        status: "failed",
        failure: { reason: "conflict", step: "worktree", message: problem },
      };
  } catch (error) {
    return gitFailure(`could not create the worktree: ${gitMessage(error)}`);
  }
  try {
    if (!ctx.state().worktreeCreated) await mergeInto(workspace.path, workspace.mergeBranches);
  } catch (error) {
    return gitFailure(
      `merging ${workspace.mergeBranches.join(", ")} into ${workspace.branch} failed (${gitMessage(error)}); resolve it in ${workspace.path}, commit, then resume`,
    );
  }
  const startCommit =
    ctx.state().startCommit ?? (await git(workspace.path, ["rev-parse", "HEAD"])).trim();
  return {
    status: "succeeded",
    result: { step: "worktree", path: workspace.path, branch: workspace.branch, startCommit },
  };
}

/** Creates worktree and branch; returns a conflict message instead when either already exists. */
async function create(root: string, workspace: Workspace): Promise<string | undefined> {
  const name = workspace.name;
  if (await branchExists(root, workspace.branch)) {
    return (
      `branch ${workspace.branch} already exists (from an earlier run?). Resume that run with ` +
      `\`conductor run --resume\`, or remove it with \`conductor archive ${name} --delete-branch\` or \`git branch -D ${workspace.branch}\``
    );
  }
  if (existsSync(workspace.path)) {
    return `${workspace.path} already exists. Resume the run that made it with \`conductor run --resume\`, or remove it (\`conductor archive ${name}\`)`;
  }
  const startPoint =
    workspace.startPoint.kind === "base"
      ? workspace.startPoint.commit
      : workspace.startPoint.branch;
  await addWorktree(root, { branch: workspace.branch, path: workspace.path, startPoint });
  return undefined;
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
  await git(root, ["worktree", "prune"]);
  await git(root, ["worktree", "add", "--quiet", workspace.path, workspace.branch]);
  return undefined;
}

function gitFailure(message: string): StepOutcome {
  return { status: "failed", failure: { reason: "git-error", step: "worktree", message } };
}
