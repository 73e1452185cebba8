import { markedProcessGroups, terminateGroup } from "../process/groups.js";

/** Set in the environment of `conductor serve`'s dev server: a reviewer's process, not a leftover. */
export const SERVE_MARKER_VARIABLE = "CONDUCTOR_SERVE";

/**
 * Process groups still running from a run whose conductor died (SIGKILL, power loss): every
 * script and agent of a run carries CONDUCTOR_RUN_ID in its environment, which identifies them
 * without trusting pids that may have been reused. Linux only (reads /proc); elsewhere, none.
 */
export async function leftoverProcessGroups(runId: string): Promise<number[]> {
  const served = new Set(await markedProcessGroups(`${SERVE_MARKER_VARIABLE}=1`));
  return (await markedProcessGroups(`CONDUCTOR_RUN_ID=${runId}`)).filter(
    (group) => !served.has(group),
  );
}

/** Ends every leftover process group of a run (SIGTERM, then SIGKILL after the grace period). */
export async function endLeftoverProcesses(runId: string): Promise<number> {
  const groups = await leftoverProcessGroups(runId);
  await Promise.all(groups.map((pgid) => terminateGroup(pgid)));
  return groups.length;
}
