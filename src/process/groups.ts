import { readdirSync, readFileSync } from "node:fs";
import { readProcFile } from "./proc-file.js";
import { statFields } from "./proc-stat.js";
import { endAllReapers } from "./reaper-pool.js";

/**
 * Process groups: conductor starts every program in a group of its own, so a whole tree can be
 * signalled at once; these are the ways to find, signal and end such groups.
 */

/** How long a process group gets between SIGTERM and SIGKILL. */
export const DEFAULT_GRACE_MS = 5000;

/** Process groups alive right now, so an abrupt exit can still kill them. */
const liveGroups = new Set<number>();

/** Records a group as started (true) or ended (false), for {@link killEverythingStarted}. */
export function trackGroup(pgid: number, alive: boolean): void {
  if (alive) liveGroups.add(pgid);
  else liveGroups.delete(pgid);
}

/** How long an immediate exit waits for conductor's own children (git) to end on SIGTERM. */
const CHILD_EXIT_WAIT_MS = 1000;

/**
 * Ends everything conductor started, for an immediate exit (a second Ctrl-C, SIGTERM or SIGHUP).
 * Synchronous. Process groups of scripts and agents get SIGKILL. Conductor's other children (git,
 * its hooks and filters) get SIGTERM first: git removes its lock files (`index.lock`) on SIGTERM
 * but cannot on SIGKILL, and an orphaned `git add` would keep the lock for the next resume. What
 * still lives after a short wait gets SIGKILL.
 */
export function killEverythingStarted(): void {
  for (const pgid of liveGroups) signalGroup(pgid, "SIGKILL");
  // Reapers ignore signals: each exits at the end of its input, once what its program left is
  // ended (the program's group was just killed).
  endAllReapers();
  const children = descendantsOf(process.pid);
  for (const pid of children) signalProcess(pid, "SIGTERM");
  const deadline = Date.now() + CHILD_EXIT_WAIT_MS;
  let alive = children;
  while (alive.length > 0 && Date.now() < deadline) {
    sleepSync(10);
    alive = alive.filter(isRunning);
  }
  for (const pid of alive) signalProcess(pid, "SIGKILL");
}

/**
 * Live descendants of `pid` (children, their children, …), read from /proc; empty elsewhere.
 * Parents come before their children.
 */
export function descendantsOf(pid: number): number[] {
  const childrenOf = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (fields === undefined || fields[0] === "Z") continue;
    const parent = Number(fields[1]);
    childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of childrenOf.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function isRunning(pid: number): boolean {
  const fields = statFields(String(pid));
  return fields !== undefined && fields[0] !== "Z";
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Blocks the thread for `ms` (only on the way out, where nothing else may run anymore). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
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

/**
 * Whether any process of the group is still alive. A group of zombies is not: they run nothing,
 * and where nobody reaps orphans promptly (a container whose init does not) they linger.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0 as unknown as NodeJS.Signals)) return false;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return true; // no /proc: the signal's answer is all there is
  }
  return entries.some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    const fields = statFields(entry);
    return fields !== undefined && fields[0] !== "Z" && Number(fields[2]) === pgid;
  });
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
 * Process groups of live processes whose environment holds every one of `markers` (`NAME=value`),
 * other than conductor's own. Linux only (reads /proc); elsewhere, none. The scan reads /proc
 * synchronously: a few milliseconds, where the same reads through the thread pool take tens.
 */
export async function markedProcessGroups(...markers: string[]): Promise<number[]> {
  return markedGroupsAbove(markers, undefined);
}

/** {@link markedProcessGroups} among processes whose pid is above `floor` (all when undefined). */
async function markedGroupsAbove(
  markers: readonly string[],
  floor: number | undefined,
): Promise<number[]> {
  const found = await markedProcesses(markers, floor);
  return [...new Set(found.map(({ pgid }) => pgid).filter((pgid) => pgid !== process.pid))];
}

/**
 * Live processes other than conductor whose environment holds every one of `markers`, with their
 * process groups, among those whose pid is above `floor` (all when undefined).
 */
async function markedProcesses(
  markers: readonly string[],
  floor: number | undefined,
): Promise<{ pid: number; pgid: number }[]> {
  const found: { pid: number; pgid: number }[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  let unsure: string[] = [];
  const read = (entry: string) => {
    const group = markedGroupOf(entry, markers);
    if (group === "unsure") unsure.push(entry);
    else if (group !== undefined) found.push({ pid: Number(entry), pgid: group });
  };
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    if (floor !== undefined && Number(entry) <= floor) continue;
    read(entry);
  }
  // A process in the middle of an exec shows an empty environment for a moment (the new program's
  // is not set up yet): `setsid nohup server &` execs three times in a row. Read those again.
  for (let retry = 0; unsure.length > 0 && retry < EXEC_RETRIES; retry++) {
    await new Promise((resolve) => setTimeout(resolve, EXEC_RETRY_MS));
    const again = unsure;
    unsure = [];
    for (const entry of again) read(entry);
  }
  return found;
}

/** Reads of a process seen with an empty environment, and the wait before each. */
const EXEC_RETRIES = 5;
const EXEC_RETRY_MS = 5;

/** The Linux flag of kernel threads in /proc/<pid>/stat: their environment is always empty. */
const PF_KTHREAD = 0x00200000;

/**
 * The process group of process `pid` when its environment holds every one of `markers` and it is
 * alive (not a zombie); `unsure` when its environment reads empty
 * (it may be in the middle of an exec); undefined otherwise.
 */
function markedGroupOf(pid: string, markers: readonly string[]): number | "unsure" | undefined {
  let environ: string;
  try {
    environ = readProcFile(`/proc/${pid}/environ`);
  } catch {
    return undefined; // gone meanwhile, or another user's
  }
  if (environ === "") {
    const fields = statFields(pid);
    if (fields === undefined || fields[0] === "Z" || fields[0] === "X") return undefined;
    return (Number(fields[6]) & PF_KTHREAD) !== 0 ? undefined : "unsure";
  }
  if (!markers.every((marker) => environ.includes(marker))) return undefined;
  const variables = environ.split("\0");
  if (!markers.every((marker) => variables.includes(marker))) return undefined;
  const fields = statFields(pid);
  const pgid = Number(fields?.[2]);
  if (fields === undefined || fields[0] === "Z" || !Number.isInteger(pgid) || pgid <= 1) {
    return undefined;
  }
  return pgid;
}

/**
 * The one rule for processes a program leaves behind: every process group whose members carry all
 * of `markers` in their environment is ended (SIGTERM, then SIGKILL after the grace period),
 * daemons that left their group with `setsid` included. Returns how many groups there were.
 */
export async function endMarkedProcesses(
  markers: readonly string[],
  options: { except?: ReadonlySet<number>; graceMs?: number; pidsAbove?: number } = {},
): Promise<number> {
  const ended = new Set<number>();
  // A process seen in one group may leave it (`setsid`) between the scan and the signal: once a
  // scan found something, scan again after ending it, until one finds nothing new to end.
  for (let pass = 0; pass < MAX_SCAN_PASSES; pass++) {
    const groups = (await markedGroupsAbove(markers, options.pidsAbove)).filter(
      (group) => !options.except?.has(group) && !ended.has(group),
    );
    if (groups.length === 0) break;
    await Promise.all(groups.map((group) => terminateGroup(group, options.graceMs)));
    for (const group of groups) ended.add(group);
  }
  return ended.size;
}

/** Scans of {@link endMarkedProcesses} at most: each one follows a scan that found processes. */
const MAX_SCAN_PASSES = 5;

/** How long after a spawn pid numbers are trusted not to have gone all the way round. */
const PID_ORDER_TRUSTED_MS = 10_000;

/**
 * A pid that every descendant of process `pid` (started at `startedAt`) is above, or undefined
 * when that cannot be known. Pids are handed out in increasing order until they wrap at pid_max:
 * unless the last pid handed out is below `pid` (they wrapped) or the program ran long enough for
 * them to wrap all the way round, its descendants have larger pids. Scanning only those skips
 * most of /proc: reading every process's environment took ~5 ms of CPU per program with 150
 * processes on the machine, after every agent and script.
 */
export function descendantPidFloor(pid: number, startedAt: number): number | undefined {
  if (Date.now() - startedAt > PID_ORDER_TRUSTED_MS) return undefined;
  try {
    const last = Number(readFileSync("/proc/sys/kernel/ns_last_pid", "utf8"));
    return Number.isInteger(last) && last >= pid ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Live processes other than conductor itself whose environment holds `marker` (`NAME=value`),
 * those caught in the middle of an exec read again. Linux only (reads /proc); elsewhere, none.
 */
export async function markedPids(marker: string): Promise<number[]> {
  return (await markedProcesses([marker], undefined)).map(({ pid }) => pid);
}

/**
 * Ends every process marked with `marker`, one by one (SIGTERM, then SIGKILL after the grace
 * period). For programs run on the user's terminal: they share conductor's process group (the
 * terminal's foreground group), so signalling their group would signal conductor and its parent
 * shell too. Returns how many processes there were.
 */
export async function endMarkedPids(marker: string, graceMs = DEFAULT_GRACE_MS): Promise<number> {
  const first = await markedPids(marker);
  if (first.length === 0) return 0;
  for (const pid of first) signalProcess(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  let alive = await markedPids(marker);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    alive = await markedPids(marker);
  }
  // Whatever ignored SIGTERM, and whatever was started meanwhile.
  for (const pid of alive) signalProcess(pid, "SIGKILL");
  return first.length;
}
