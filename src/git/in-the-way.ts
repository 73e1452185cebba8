import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { UnsafeOperationError } from "../errors.js";
import { ignoredUntrackedFiles } from "./ignored.js";
import { changedPaths, entryTypes } from "./tree-paths.js";

/**
 * Paths that bringing `checkout` from tree `from` to tree `to` would write where something the
 * checkout does not track already is: a file at a new file's path, a file where one of its
 * folders would go, or an untracked file inside a tracked folder that becomes a file. `from` must hold every file of the checkout git is asked to keep, so what is
 * on disk and absent from it is exactly what nobody asked git to look after.
 */
export async function pathsInTheWay(checkout: string, from: string, to: string): Promise<string[]> {
  const changed = await changedPaths(checkout, from, to);
  if (changed.length === 0) return [];
  const tracked = await entryTypes(checkout, from, changed);
  const inTheWay: string[] = [];
  for (const file of changed) {
    const type = tracked.get(file);
    if (type === "tree") {
      // A tracked folder that becomes a file or link: git removes the folder with whatever
      // untracked files it holds (ignored ones without a word), so those are in the way.
      inTheWay.push(...(await untrackedIn(checkout, from, file)));
      continue;
    }
    if (type !== undefined) continue;
    // A new file: nothing may be there, nor a file where one of its folders would go.
    const parts = file.split("/");
    for (let depth = 1; depth <= parts.length; depth++) {
      const at = parts.slice(0, depth).join("/");
      const stats = await lstat(path.join(checkout, at)).catch(() => undefined);
      if (stats === undefined) break;
      if (depth === parts.length || !stats.isDirectory()) {
        inTheWay.push(at);
        break;
      }
    }
  }
  return [...new Set(inTheWay)];
}

/**
 * What is on disk under `folder` of `checkout` that tree `from` does not hold: files and links,
 * and whole folders it has nothing of (named once, not walked: a node_modules of its own).
 */
async function untrackedIn(checkout: string, from: string, folder: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string): Promise<void> => {
    const entries = await readdir(path.join(checkout, at), { withFileTypes: true }).catch(() => []);
    const paths = entries.map((entry) => `${at}/${entry.name}`);
    const tracked = await entryTypes(checkout, from, paths);
    for (const [index, entry] of entries.entries()) {
      const file = paths[index] as string;
      const type = tracked.get(file);
      // A link to a folder is not followed: git removes the link, not what it points at.
      if (entry.isDirectory() && type === "tree") await walk(file);
      else if (type === undefined || (entry.isDirectory() && type === "blob")) found.push(file);
    }
  };
  await walk(folder);
  return found;
}

/**
 * The paths in the way (see {@link pathsInTheWay}) of a checkout at commit `from` that are
 * gitignored files, or folders holding some. git protects an untracked file from being
 * overwritten (`read-tree -m -u`, `checkout` and `merge` refuse), but treats an ignored one as
 * expendable and replaces it without a word: a `.env.local` or a local config would be lost.
 */
export async function ignoredFilesInTheWay(
  checkout: string,
  from: string,
  to: string,
): Promise<string[]> {
  const inTheWay = await pathsInTheWay(checkout, from, to);
  if (inTheWay.length === 0) return [];
  const ignored = await ignoredUntrackedFiles(checkout, inTheWay);
  return inTheWay.filter((at) => ignored.some((file) => file === at || file.startsWith(`${at}/`)));
}

/** Updating a checkout's files was refused: they would overwrite ignored files (`files`). */
export class IgnoredFilesInTheWayError extends UnsafeOperationError {
  readonly files: readonly string[];

  constructor(checkout: string, files: readonly string[]) {
    super(
      `updating ${checkout} would overwrite ignored files there: ${files.join(", ")}; nothing was changed`,
      { hint: "Move them out of the way if they may go, then try again." },
    );
    this.files = files;
  }
}
