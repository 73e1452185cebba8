import type { WorkspaceState } from "./types.js";

/**
 * The workspaces with each one still running marked interrupted: the session under it ended
 * without the workspace's own finish event. `close` adds what that end tells (a failure, a time).
 */
export function interruptRunning(
  workspaces: Readonly<Record<string, WorkspaceState>>,
  close: (workspace: WorkspaceState) => Partial<WorkspaceState>,
): Record<string, WorkspaceState> {
  const result: Record<string, WorkspaceState> = {};
  for (const [name, workspace] of Object.entries(workspaces)) {
    result[name] =
      workspace.status === "running"
        ? { ...workspace, status: "interrupted", ...close(workspace) }
        : workspace;
  }
  return result;
}
