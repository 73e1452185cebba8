import { readdir, readFile } from "node:fs/promises";

/**
 * Process groups: conductor starts every program in a group of its own, so a whole tree can be
 * signalled at once; these are the ways to find, signal and end such groups.
 */

/** How long a process group gets between SIGTERM and SIGKILL. */
export const DEFAULT_GRACE_MS = 5000;

/** Process groups alive right now, so an abrupt exit can still kill them. */
const liveGroups = new Set<number>();

/** Records a group as started (true) or ended (false), for {@link killAllProcessGroups}. */
export function trackGroup(pgid: number, alive: boolean): void {
  if (alive) liveGroups.add(pgid);
  else liveGroups.delete(pgid);
}

/** Sends SIGKILL to every process group conductor started that is still alive. Synchronous. */
export function killAllProcessGroups(): void {
  for (const pgid of liveGroups) signalGroup(pgid, "SIGKILL");
}

/** Process group ids this process started that are alive right now. */
export function liveProcessGroups(): number[] {
  return [...liveGroups];
}

/** Sends `signal` to a whole process group; false when the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Whether any process of the group is still alive. */
export function groupAlive(pgid: number): boolean {
  return signalGroup(pgid, 0 as unknown as NodeJS.Signals);
}

/** SIGTERM to the group, then SIGKILL after `graceMs` if anything is left; resolves when it is gone. */
export async function terminateGroup(pgid: number, graceMs = DEFAULT_GRACE_MS): Promise<void> {
  if (!signalGroup(pgid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pgid)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  signalGroup(pgid, "SIGKILL");
}

/**
 * Process groups of live processes whose environment holds `marker` (`NAME=value`), other than
 * conductor's own. Linux only (reads /proc); elsewhere, none.
 */
export async function markedProcessGroups(marker: string): Promise<number[]> {
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
    if (fields[0] !== "Z" && Number.isInteger(pgid) && pgid > 1 && pgid !== process.pid) {
      groups.add(pgid);
    }
  }
  return [...groups];
}
