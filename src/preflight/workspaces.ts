/** Checks of the folder worktrees go in: it can be written, and the disk has room for them. */
import { constants } from "node:fs";
import { access, stat, statfs } from "node:fs/promises";
import path from "node:path";
import { runsDir } from "../executor/run-store.js";
import { checkoutSize } from "../git/tree-size.js";
import { shellCommand } from "../hint/shell-quote.js";
import { type CheckResult, result } from "./check.js";

/** Room kept free beyond the worktrees themselves (logs, build output, git's own files). */
const MARGIN_BYTES = 100 * 1024 * 1024;

/** What the workspaces check needs to know. */
export interface WorkspacesTarget {
  /** The folder worktrees go in. */
  dir: string;
  /** The main checkout, and the commit new worktrees start from. */
  root: string;
  commit: string;
  /** How many worktrees will be made. */
  count: number;
}

/** Whether the folder (or, when it does not exist yet, the folder it will be made in) is writable. */
export function workspacesFolderCheck(dir: string): Promise<CheckResult> {
  return writableFolderCheck("workspaces folder", dir, "set workspaces.dir");
}

/**
 * Whether `dir` (or, when it does not exist yet, the folder it will be made in) is a writable
 * folder; `setting` says how the user puts it elsewhere (`set workspaces.dir`), when they can.
 */
export async function writableFolderCheck(
  check: string,
  dir: string,
  setting: string | undefined,
): Promise<CheckResult> {
  const existing = await nearestExisting(dir);
  if (existing === undefined)
    return result(check, "fail", `${dir}: no part of this path exists`, setting ?? "");
  if (!existing.isDirectory) {
    // Where the place is fixed (the port registry), the file in the way is the user's to move.
    const aside = shellCommand(["mv", existing.path, `${existing.path}.moved`]);
    return result(
      check,
      "fail",
      `${dir} cannot be made: ${existing.path} is a file`,
      setting === undefined ? `move it aside: ${aside}` : `${setting} to a folder`,
    );
  }
  try {
    await access(existing.path, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    const why = code === "EROFS" ? "is on a read-only file system" : "is not writable";
    return result(
      check,
      "fail",
      `${existing.path} ${why}${existing.path === dir ? "" : ` (needed to make ${dir})`}`,
      `make it writable (chmod u+w ${shellCommand([existing.path])})${setting === undefined ? "" : ` or ${setting} to a writable folder`}`,
    );
  }
  return result(check, "ok", existing.path === dir ? dir : `${dir} (will be made)`);
}

/** Whether the disk under the folder has room for `count` more checkouts of the commit. */
export async function diskSpaceCheck(target: WorkspacesTarget): Promise<CheckResult> {
  const check = "disk space";
  const existing = await nearestExisting(target.dir);
  if (existing === undefined || target.count === 0) return result(check, "ok", "nothing to make");
  const [fs, size] = await Promise.all([
    statfs(existing.path),
    checkoutSize(target.root, target.commit),
  ]);
  const free = fs.bavail * fs.bsize;
  const needed = size * target.count + MARGIN_BYTES;
  const detail = `${formatBytes(free)} free at ${existing.path}; ${target.count} worktree(s) of ${formatBytes(size)} need about ${formatBytes(needed)}`;
  if (free < needed)
    return result(check, "fail", detail, "free disk space, or set workspaces.dir to a larger disk");
  return result(check, "ok", detail);
}

async function nearestExisting(
  dir: string,
): Promise<{ path: string; isDirectory: boolean } | undefined> {
  let current = path.resolve(dir);
  for (;;) {
    try {
      const info = await stat(current);
      return { path: current, isDirectory: info.isDirectory() };
    } catch (error) {
      // ENOTDIR: a file stands on the way; going up finds it. EACCES: not ours to enter.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") return { path: current, isDirectory: true };
    }
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** `1.2 GB`, `340 MB`, `12 KB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/**
 * Whether the folder of the repository's run state (`.conductor/runs/`) can be made: a file named
 * `.conductor` in the way stopped the run only after preflight, as an internal error. The place is
 * fixed, so the remedy is moving the file aside.
 */
export async function runStateCheck(root: string): Promise<CheckResult> {
  return namedFailure(await writableFolderCheck("run state", runsDir(root), undefined));
}

/**
 * A failed check with its name in front of its detail: preflight prints details without the
 * check's name, and a path alone would not say what it is.
 */
export function namedFailure(check: CheckResult): CheckResult {
  return check.status === "ok" ? check : { ...check, detail: `${check.check}: ${check.detail}` };
}
