import { readdirSync, readlinkSync } from "node:fs";

/**
 * The pids of the processes that hold one of the sockets `inodes` (as the kernel's socket tables
 * number them) open, by socket. Only processes this user may look into are seen; none without
 * /proc.
 */
export function socketOwners(inodes: ReadonlySet<string>): Map<string, number[]> {
  const owners = new Map<string, number[]>();
  if (inodes.size === 0) return owners;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry));
  } catch {
    return owners;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode === undefined || !inodes.has(inode)) continue;
      const holders = owners.get(inode) ?? [];
      if (!holders.includes(Number(pid))) holders.push(Number(pid));
      owners.set(inode, holders);
    }
  }
  return owners;
}
