import { lstatSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { processExists } from "./exists.js";

/**
 * Removes the folders under `parent` that a conductor process made for itself and could not
 * remove because it was killed first: those `pattern` names (its first group the maker's pid)
 * whose pid is neither this process nor a live one. Only real folders of this user (never a
 * symlink, never followed: rm removes the links inside, not what they point to); a pid reused
 * since keeps its folder, as does anything that cannot be read. Never throws: what fails is
 * tried again by the next call.
 */
export function removeFoldersOfGoneProcesses(parent: string, pattern: RegExp): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || processExists(pid))
      continue;
    const folder = path.join(parent, name);
    try {
      const stats = lstatSync(folder);
      if (!stats.isDirectory() || (uid !== undefined && stats.uid !== uid)) continue;
      rmSync(folder, { recursive: true, force: true });
    } catch {
      // Gone meanwhile, or not ours to remove.
    }
  }
}
