import { lstat } from "node:fs/promises";
import path from "node:path";
import { UnsafeOperationError } from "../errors.js";
import { ignoredUntrackedFiles } from "./ignored.js";
import { changedPaths, presentIn } from "./tree-paths.js";

/**
 * Paths that bringing `checkout` from tree `from` to tree `to` would write where something the
 * checkout does not track already is: a file at a new file's path, or a file where one of its
 * folders would go. `from` must hold every file of the checkout git is asked to keep, so what is
 * on disk and absent from it is exactly what nobody asked git to look after.
 */
export async function pathsInTheWay(checkout: string, from: string, to: string): Promise<string[]> {
  const changed = await changedPaths(checkout, from, to);
  if (changed.length === 0) return [];
  const tracked = await presentIn(checkout, from, changed);
  const inTheWay: string[] = [];
  for (const file of changed) {
    if (tracked.has(file)) continue;
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
