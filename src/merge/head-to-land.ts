import { UnsafeOperationError } from "../errors.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { resolveCommit } from "../git/facts.js";
import { conductorCommand } from "../hint/command.js";

/**
 * The commit of the workspace's branch to land: its head, which must still be `checked`, the
 * head the merge's checks looked at (when there were checks). A branch moved in between (a
 * process the agent left behind, another terminal) would otherwise land unchecked.
 */
export async function headToLand(
  found: FoundWorkspace,
  checked: string | undefined,
): Promise<string> {
  const { workspace, run } = found;
  const head = await resolveCommit(run.plan.repo.root, `refs/heads/${workspace.branch}`);
  if (head === undefined) {
    throw new UnsafeOperationError(
      `${workspace.name}: its branch ${workspace.branch} is gone; nothing to merge`,
    );
  }
  if (checked !== undefined && head !== checked) {
    throw new UnsafeOperationError(
      `${workspace.name}: ${workspace.branch} moved while it was being merged (checked at ${checked.slice(0, 10)}, now at ${head.slice(0, 10)}); it was not merged`,
      {
        hint: `See what moved it, then \`${conductorCommand(["checks", workspace.name, "--run", run.runId])}\` and merge again.`,
      },
    );
  }
  return head;
}
