import { readdir, readFile } from "node:fs/promises";
import { terminateGroup } from "./process.js";

/**
 * Process groups still running from a run whose conductor died (SIGKILL, power loss): every
 * script and agent of a run carries CONDUCTOR_RUN_ID in its environment, which identifies them
 * without trusting pids that may have been reused. Linux only (reads /proc); elsewhere, none.
 */
export async function leftoverProcessGroups(runId: string): Promise<number[]> {
  const marker = `CONDUCTOR_RUN_ID=${runId}`;
  const groups = new Set<number>();
  const entries = await readdir("/proc").catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const environ = await readFile(`/proc/${entry}/environ`, "latin1").catch(() => "");
    if (!environ.split("\0").includes(marker)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "latin1").catch(() => "");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pgid = Number(fields[2]);
    if (Number.isInteger(pgid) && pgid > 1 && pgid !== process.pid) groups.add(pgid);
  }
  return [...groups];
}

/** Ends every leftover process group of a run (SIGTERM, then SIGKILL after the grace period). */
export async function endLeftoverProcesses(runId: string): Promise<number> {
  const groups = await leftoverProcessGroups(runId);
  await Promise.all(groups.map((pgid) => terminateGroup(pgid)));
  return groups.length;
}
