import path from "node:path";
import { UnsafeOperationError } from "../errors.js";
import { commonGitDir } from "../git/facts.js";
import {
  repairWorktreeLink,
  WorktreeLinkError,
  worktreeLinkChanges,
} from "../git/worktree-link.js";
import { conductorCommand } from "../hint/command.js";
import { shellCommand } from "../hint/shell-quote.js";
import type { FoundWorkspace } from "./find-workspace.js";
import { isConductorAlive, isRunLive, loadRun } from "./load-run.js";
import { RunPaths } from "./run-store.js";
import type { StepContext } from "./steps/context.js";

/**
 * Puts the workspace's worktree link back as git made it, before conductor runs git in the
 * worktree after an agent (see {@link repairWorktreeLink}); what stood there is kept beside the
 * agent log. Says what it put back, one sentence each.
 */
export async function repairOwnWorktreeLink(ctx: StepContext): Promise<string[]> {
  const { commonDir } = await ctx.checkoutHook.find();
  const keepUnder = path.dirname(ctx.paths.logFile(ctx.workspace.name, "agent"));
  return repairWorktreeLink(commonDir, ctx.workspace.path, keepUnder);
}

/** A workspace's worktree, named by its run. */
export interface WorkspaceWorktree {
  root: string;
  runId: string;
  name: string;
  path: string;
}

/** The {@link WorkspaceWorktree} of a workspace found in a run. */
export function worktreeOf(found: FoundWorkspace): WorkspaceWorktree {
  const { run, workspace } = found;
  return { root: run.plan.repo.root, runId: run.runId, name: workspace.name, path: workspace.path };
}

/**
 * Puts a workspace's worktree link back as git made it before a command other than the run
 * (archive, clean, checks, merge, spotlight, exec, shell, open, serve, review, continue, pr's
 * description, a new run retiring it) runs git there or starts a program that does. The run checked the link after its agent, but a process
 * the agent left behind, or an agent whose conductor was killed, may have changed it since: git
 * would then run the config of a repository the agent made (its filters and fsmonitor are
 * programs) outside any sandbox. Each repair is printed as a warning and what stood there is
 * kept in the workspace's run folder; a link that cannot be put back refuses the command.
 *
 * A workspace an agent may be working in (see {@link isWorkedOn}) is only looked at: the check
 * after that agent's step puts the link back and fails the step, and a repair made before would
 * let the agent that changed it pass. A changed link there refuses the command.
 */
export async function guardWorktreeLink(worktree: WorkspaceWorktree): Promise<void> {
  const keepUnder = new RunPaths(worktree.root, worktree.runId).workspaceDir(worktree.name);
  let repairs: string[];
  try {
    const commonDir = await commonGitDir(worktree.root);
    const changes = worktreeLinkChanges(commonDir, worktree.path);
    if (changes.length === 0) return;
    if (await isWorkedOn(worktree)) {
      throw new UnsafeOperationError(
        `workspace ${worktree.name}: ${changes.join("; ")}; conductor runs nothing there while an agent of run ${worktree.runId} works on it (the check after its step puts the link back and fails the step)`,
        {
          hint: `Wait for it to finish (\`${conductorCommand(["status", "--run", worktree.runId])}\`). If no conductor runs it any more, \`${shellCommand(["git", "-C", worktree.root, "worktree", "repair", worktree.path])}\` puts the link back.`,
        },
      );
    }
    repairs = repairWorktreeLink(commonDir, worktree.path, keepUnder);
  } catch (error) {
    if (!(error instanceof WorktreeLinkError)) throw error;
    throw new UnsafeOperationError(`workspace ${worktree.name}: ${error.message}`);
  }
  // Printed where it happens: the commands that call this have no event stream to tell it on.
  for (const repair of repairs) {
    process.stderr.write(`conductor: warning: workspace ${worktree.name}: ${repair}\n`);
  }
}

/**
 * Whether an agent may be working in the workspace now, read from its run folder as it stands:
 * a live run (or follow-up) has it running or still to start, or a live conductor runs its
 * reviewer (`review: auto` in a run, or `conductor review`).
 */
async function isWorkedOn(worktree: WorkspaceWorktree): Promise<boolean> {
  const run = await loadRun(worktree.root, worktree.runId).catch(() => undefined);
  const state = run?.workspaces[worktree.name];
  if (run === undefined || state === undefined) return false;
  if (isRunLive(run) && (state.status === "running" || state.status === "pending")) return true;
  const review = state.review;
  return review?.status === "running" && review.pid !== undefined && isConductorAlive(review.pid);
}
