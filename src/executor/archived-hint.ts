import { conductorCommand, gitCommand } from "../hint/command.js";
import type { Workspace } from "../planner/types.js";
import type { WorkspaceState } from "./types.js";

/** Where `archive --losers` keeps the branches of the candidates that lost a pick. */
export const LOSERS_REFS = "refs/conductor/losers/";

/**
 * What can bring an archived workspace's work back: its branch, where the archive kept it. A
 * resume would not (the run's other workspaces decide whether there is anything to resume).
 * `root` is the repository's main checkout, which the git commands name when the user is elsewhere.
 */
export function archivedHint(
  root: string,
  workspace: Workspace,
  archived: NonNullable<WorkspaceState["archived"]>,
): string {
  if (archived.keptAs !== undefined) {
    const again = gitCommand(root, ["branch", `${workspace.branch}-kept`, archived.keptAs]);
    // `archive --losers` keeps the branch the same way; no later run is involved then.
    const why = archived.keptAs.startsWith(LOSERS_REFS)
      ? "It lost its task's pick and was archived"
      : "A later run took its branch name";
    return `${why}; its work is kept as ${archived.keptAs}: \`${again}\` makes it a branch again.`;
  }
  if (archived.branchDeleted) {
    return `Its branch ${workspace.branch} was deleted with it; start the task again with \`${conductorCommand(["run", workspace.taskId])}\`.`;
  }
  return `Its branch ${workspace.branch} is kept: \`${gitCommand(root, ["worktree", "add", workspace.path, workspace.branch])}\` checks it out again, to look at it or go on by hand.`;
}
