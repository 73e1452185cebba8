import { readdirSync, readlinkSync } from "node:fs";

/** The pids of /proc, this process's own left out; none without /proc. */
export function otherPids(): string[] {
  try {
    return readdirSync("/proc").filter(
      (entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid,
    );
  } catch {
    return [];
  }
}

/**
 * What the open file descriptors of process `pid` point at, as /proc shows them (a path with
 * symlinks resolved, `socket:[<inode>]`, `pipe:[…]`); none for a process that is gone or is not
 * ours to look into.
 */
export function openFilesOf(pid: string): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const targets: string[] = [];
  for (const fd of fds) {
    try {
      targets.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return targets;
}
