import { openFilesOf, otherPids } from "./open-files.js";

/**
 * The pids of the processes that hold one of the sockets `inodes` (as the kernel's socket tables
 * number them) open, by socket. Only processes this user may look into are seen; none without
 * /proc.
 */
export function socketOwners(inodes: ReadonlySet<string>): Map<string, number[]> {
  const owners = new Map<string, number[]>();
  if (inodes.size === 0) return owners;
  for (const pid of otherPids()) {
    for (const target of openFilesOf(pid)) {
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode === undefined || !inodes.has(inode)) continue;
      const holders = owners.get(inode) ?? [];
      if (!holders.includes(Number(pid))) holders.push(Number(pid));
      owners.set(inode, holders);
    }
  }
  return owners;
}
