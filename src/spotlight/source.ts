import type { FoundWorkspace } from "../executor/find-workspace.js";
import { SERVE_MARKER_VARIABLE } from "../executor/leftovers.js";
import { markedProcessGroups } from "../process/groups.js";
import { diffBase } from "../review/diff.js";
import { requireWorktree } from "../review/worktree-presence.js";
import type { SpotlightSource } from "./spotlight.js";

/** The Spotlight source of a run's workspace: its worktree (which must exist) and its start. */
export async function spotlightSource(found: FoundWorkspace): Promise<SpotlightSource> {
  return {
    workspace: found.workspace.name,
    runId: found.run.runId,
    worktree: await requireWorktree(found),
    start: diffBase(found),
    exclude: found.state.seed?.folders ?? [],
  };
}

/** Whether `conductor serve` runs the workspace's dev server right now (its marked processes). */
export async function isServed(source: SpotlightSource): Promise<boolean> {
  const groups = await markedProcessGroups(
    `${SERVE_MARKER_VARIABLE}=1`,
    `CONDUCTOR_RUN_ID=${source.runId}`,
    `CONDUCTOR_WORKSPACE_NAME=${source.workspace}`,
  );
  return groups.length > 0;
}
