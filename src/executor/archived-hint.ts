import { conductorCommand } from "../hint/command.js";
import { shellQuote } from "../hint/shell-quote.js";
import type { Workspace } from "../planner/types.js";
import type { WorkspaceState } from "./types.js";

/**
 * What can bring an archived workspace's work back: its branch, where the archive kept it. A
 * resume would not (the run's other workspaces decide whether there is anything to resume).
 */
export function archivedHint(
  workspace: Workspace,
  archived: NonNullable<WorkspaceState["archived"]>,
): string {
  if (archived.keptAs !== undefined) {
    const named = shellQuote(`${workspace.branch}-kept`);
    return `A later run took its branch name; its work is kept as ${archived.keptAs}: \`git branch ${named} ${archived.keptAs}\` makes it a branch again.`;
  }
  if (archived.branchDeleted) {
    return `Its branch ${workspace.branch} was deleted with it; start the task again with \`${conductorCommand(["run", workspace.taskId])}\`.`;
  }
  return `Its branch ${workspace.branch} is kept: \`git worktree add ${shellQuote(workspace.path)} ${shellQuote(workspace.branch)}\` checks it out again, to look at it or go on by hand.`;
}
