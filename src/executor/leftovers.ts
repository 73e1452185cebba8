import { endMarkedProcesses, markedProcessGroups } from "../process/groups.js";

/** Set in the environment of `conductor serve`'s dev server: a reviewer's process, not a leftover. */
export const SERVE_MARKER_VARIABLE = "CONDUCTOR_SERVE";

/** Set in the environment of `conductor shell` and `exec`: a person's terminal, not a leftover. */
export const TERMINAL_MARKER_VARIABLE = "CONDUCTOR_TERMINAL";

/**
 * Ends every process group still running from a run whose conductor died (SIGKILL, power loss):
 * every script and agent of a run carries CONDUCTOR_RUN_ID in its environment, which identifies
 * them without trusting pids that may have been reused. A reviewer's `serve`, `shell` and `exec`
 * are left alone.
 * Linux only (reads /proc); elsewhere, none. SIGTERM, then SIGKILL after the grace period.
 */
export async function endLeftoverProcesses(runId: string): Promise<number> {
  const served = new Set([
    ...(await markedProcessGroups(`${SERVE_MARKER_VARIABLE}=1`)),
    ...(await markedProcessGroups(`${TERMINAL_MARKER_VARIABLE}=1`)),
  ]);
  return endMarkedProcesses([`CONDUCTOR_RUN_ID=${runId}`], { except: served });
}

/**
 * Ends every process of one workspace of a run, its dev server from `conductor serve` included:
 * on archive its worktree goes away, so nothing may keep running in it.
 */
export async function endWorkspaceProcesses(runId: string, workspace: string): Promise<number> {
  return endMarkedProcesses([`CONDUCTOR_RUN_ID=${runId}`, `CONDUCTOR_WORKSPACE_NAME=${workspace}`]);
}
