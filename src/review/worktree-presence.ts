import { existsSync } from "node:fs";
import { StateError, unreachable } from "../errors.js";
import { archivedHint } from "../executor/archived-hint.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { guardWorktreeLink, worktreeOf } from "../executor/worktree-link-check.js";
import { isRegisteredWorktree } from "../git/worktree.js";
import { conductorCommand, runConductorCommand } from "../hint/command.js";

/** What is on disk where a workspace's worktree should be. */
export type WorktreePresence =
  /** The worktree is there and git knows it. */
  | "present"
  /** `conductor archive` removed it. */
  | "archived"
  /** The workspace never got as far as creating it. */
  | "never-created"
  /** It was created, but its folder is gone (removed by hand). */
  | "vanished"
  /** Something is at its path, but it is not a worktree of this repository. */
  | "foreign";

/**
 * Looks at the disk and git's worktree list to tell where a workspace's worktree stands. Runs no
 * git in the worktree: a caller that will, or that starts a program there, calls
 * {@link guardWorktreeLink} first (as {@link requireWorktree} does).
 */
export async function worktreePresence(found: FoundWorkspace): Promise<WorktreePresence> {
  const { workspace, state, run } = found;
  if (state.archived !== undefined && !existsSync(workspace.path)) return "archived";
  if (!existsSync(workspace.path)) return state.worktreeCreated ? "vanished" : "never-created";
  return (await isRegisteredWorktree(run.plan.repo.root, workspace.path)) ? "present" : "foreign";
}

/**
 * The worktree path of a workspace, or a clear error saying why there is none; its link to the
 * repository as git made it (see {@link guardWorktreeLink}), so git may run there.
 */
export async function requireWorktree(found: FoundWorkspace): Promise<string> {
  const { workspace, state } = found;
  const presence = await worktreePresence(found);
  switch (presence) {
    case "present":
      await guardWorktreeLink(worktreeOf(found));
      return workspace.path;
    case "archived":
      throw new StateError(
        `workspace ${workspace.name} was archived${state.archived ? ` (${state.archived.at})` : ""}; its worktree is gone`,
        // The same words as `continue` says: a command that works as pasted, quoted.
        {
          hint:
            state.archived === undefined
              ? undefined
              : archivedHint(found.run.plan.repo.root, workspace, state.archived),
        },
      );
    case "never-created":
      throw new StateError(
        `workspace ${workspace.name} has no worktree: it ${state.status === "pending" ? "has not started" : "stopped before creating one"}`,
        {
          hint: `Run it with \`${runConductorCommand(found.run.plan.repo.root, found.run.plan.configFile, ["run", "--resume", found.run.runId])}\`.`,
        },
      );
    case "vanished":
      throw new StateError(`the worktree of ${workspace.name} is gone: ${workspace.path}`, {
        hint: `Its branch ${workspace.branch} is kept; \`${conductorCommand(["clean", "--run", found.run.runId])}\` tidies up what is left.`,
      });
    case "foreign":
      throw new StateError(
        `${workspace.path} exists but is not a worktree of ${found.run.plan.repo.root}`,
        { hint: "Something else took its place; conductor leaves it alone." },
      );
    default:
      return unreachable(presence);
  }
}
