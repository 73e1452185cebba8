import {
  closeSync,
  constants,
  cpSync,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { entryExists } from "../fs/entry-exists.js";
import { shellCommand } from "../hint/shell-quote.js";
import { commonGitDir } from "./facts.js";
import { samePath } from "./worktree.js";

/**
 * How a linked worktree finds its repository, through files its agent can write: the worktree's
 * `.git` file names git's folder for it (`<common dir>/worktrees/<id>`), whose `commondir` names
 * the repository and whose `gitdir` names the `.git` file back. An agent that points `.git` (or
 * `commondir`) at a repository of its own makes every later git command there read that
 * repository's config: its filters and fsmonitor are programs git runs, outside the agent's
 * sandbox, under conductor's commit or the user's `git status`. And a `.git` naming another
 * workspace's folder would commit on that workspace's branch.
 *
 * {@link repairWorktreeLink} checks the link before conductor runs git in a worktree after an
 * agent, and puts it back as git made it. The folder that is the worktree's own is the one whose
 * `gitdir` names the worktree: that file is in the repository's git folder, out of a sandboxed
 * agent's reach (and an agent that can write there is caught by the git files check).
 */

/** A worktree whose link conductor could not put back: no git may run in it. */
export class WorktreeLinkError extends Error {
  override name = "WorktreeLinkError";
}

/** Longest link file read: git's are one short line, and anything longer is not git's. */
const MAX_LINK_BYTES = 4096;

/** A link file that is not as git made it: where it is, what it held, and what git writes there. */
interface LinkChange {
  file: string;
  /** `.git` or `commondir`. */
  name: ".git" | "commondir";
  /** What it held, shown for a message ("missing" when there was nothing). */
  was: string;
  /** Where it should point, shown for a message. */
  expected: string;
  /** The bytes git writes there. */
  asGitWritesIt: string;
}

/** The link files of the worktree that are not as git made them; reads, changes nothing. */
function linkChanges(commonDir: string, worktree: string): LinkChange[] {
  const admin = ownAdminFolder(commonDir, worktree);
  const changes: LinkChange[] = [];
  const dotGit = path.join(worktree, ".git");
  const content = linkFile(dotGit);
  const dotGitLines = gitdirLines(worktree, admin);
  if (content === undefined || !dotGitLines.includes(content)) {
    changes.push({
      file: dotGit,
      name: ".git",
      was: describeLink(dotGit, content),
      expected: admin,
      asGitWritesIt: dotGitLines[0] as string,
    });
  }
  const commondir = path.join(admin, "commondir");
  const common = linkFile(commondir);
  if (common === undefined || !commondirLines(commonDir).includes(common)) {
    changes.push({
      file: commondir,
      name: "commondir",
      was: describeLink(commondir, common),
      expected: commonDir,
      // What git writes: the common folder is two levels up from `<common>/worktrees/<id>`.
      asGitWritesIt: "../..\n",
    });
  }
  return changes;
}

/**
 * Puts the worktree's link to the repository at `commonDir` back where the agent changed it
 * (what stood there moved into a new folder under `keepUnder`) and says what it put back, one
 * sentence each; nothing when the link is as git made it. Throws {@link WorktreeLinkError} when
 * the worktree's own git folder cannot be told.
 */
export function repairWorktreeLink(
  commonDir: string,
  worktree: string,
  keepUnder: string,
): string[] {
  const changes = linkChanges(commonDir, worktree);
  let keptIn: string | undefined;
  const keep = (file: string, name: string): string | undefined => {
    keptIn ??= mkdtempSync(path.join(mkdirp(keepUnder), "worktree-link-"));
    const kept = path.join(keptIn, name);
    try {
      return moveAside(file, kept) ? kept : undefined;
    } catch (error) {
      throw new WorktreeLinkError(
        `could not move ${file} aside (${(error as Error).message}); conductor runs no git in ${worktree}: put it back with \`${repairCommand(commonDir, worktree)}\``,
      );
    }
  };
  return changes.map((change) => {
    const kept =
      change.was === "missing"
        ? undefined
        : keep(change.file, change.name === ".git" ? "dot-git" : "commondir");
    try {
      writeFileSync(change.file, change.asGitWritesIt, { flag: "wx" });
    } catch (error) {
      // Another command put it back at the same moment (or something else took its place).
      throw new WorktreeLinkError(
        `could not put back ${change.file} (${(error as Error).message}); conductor runs no git in ${worktree}: run the command again`,
      );
    }
    return change.was === "missing"
      ? `the agent removed the worktree's ${change.name} file (it names ${change.expected}); put back`
      : `the agent pointed the worktree's ${change.name} at ${change.was} instead of ${change.expected}; put back${kept === undefined ? "" : `, what stood there kept in ${kept}`}`;
  });
}

/**
 * What of the worktree's link to the repository at `commonDir` is not as git made it, one
 * sentence each, changing nothing: for a worktree an agent may be working in right now, where
 * putting the link back would hide from its run's check what the agent did. Throws
 * {@link WorktreeLinkError} when the worktree's own git folder cannot be told.
 */
export function worktreeLinkChanges(commonDir: string, worktree: string): string[] {
  return linkChanges(commonDir, worktree).map((change) =>
    change.was === "missing"
      ? `the worktree's ${change.name} file is missing`
      : `the worktree's ${change.name} points at ${change.was} instead of ${change.expected}`,
  );
}

/**
 * {@link worktreeLinkChanges} of a checkout of the repository whose main checkout is `root`
 * where conductor is about to run git (the checkout of a branch it lands work on): nothing for
 * the main checkout, whose `.git` is the repository's own. Changes nothing.
 */
export async function checkoutLinkChanges(root: string, checkout: string): Promise<string[]> {
  if (samePath(checkout, root)) return [];
  try {
    return worktreeLinkChanges(await commonGitDir(root), checkout);
  } catch (error) {
    if (error instanceof WorktreeLinkError) return [error.message];
    throw error;
  }
}

/**
 * The git folder of a linked worktree of the repository whose main checkout is `root`, found
 * from the repository's side (the folder whose `gitdir` names the worktree), never from the
 * worktree's `.git`: git given it as GIT_DIR reads no file an agent in the worktree can change
 * to point git elsewhere, however often it changes it. {@link WorktreeLinkError} when none is.
 */
export async function worktreeGitDir(root: string, worktree: string): Promise<string> {
  return ownAdminFolder(await commonGitDir(root), worktree);
}

/** The worktree's own git folder; {@link WorktreeLinkError} when it cannot be told. */
function ownAdminFolder(commonDir: string, worktree: string): string {
  const admin = adminFolderOf(commonDir, worktree);
  if (admin === undefined) {
    throw new WorktreeLinkError(
      `no git folder under ${path.join(commonDir, "worktrees")} names the worktree ${worktree} (its gitdir file was changed or removed); conductor runs no git there: look at it, then \`${repairCommand(commonDir, worktree)}\``,
    );
  }
  return admin;
}

/**
 * {@link repairWorktreeLink} for a worktree of the repository whose main checkout is `root`, for
 * callers that do not know its common git folder yet (asked of git in the main checkout, which
 * no agent's link changes).
 */
export async function repairLinkOfRepository(
  root: string,
  worktree: string,
  keepUnder: string,
): Promise<string[]> {
  return repairWorktreeLink(await commonGitDir(root), worktree, keepUnder);
}

/**
 * The operation a `git commit` in the worktree would finish, left open by whoever started it:
 * `merge` (MERGE_HEAD: the other side's history would come onto the branch), `cherry-pick` or
 * `revert` (the commit would take the picked commit's author). Read from the repository's side,
 * like {@link worktreeGitDir}, without starting git; undefined also when the worktree's git folder
 * cannot be told (the checks of its link, before the commit, are what answer for that).
 */
export function operationLeftOpen(
  commonDir: string,
  worktree: string,
): "merge" | "cherry-pick" | "revert" | undefined {
  const admin = adminFolderOf(commonDir, worktree);
  if (admin === undefined) return undefined;
  if (entryExists(path.join(admin, "MERGE_HEAD"))) return "merge";
  if (entryExists(path.join(admin, "CHERRY_PICK_HEAD"))) return "cherry-pick";
  if (entryExists(path.join(admin, "REVERT_HEAD"))) return "revert";
  return undefined;
}

/** The folder under `<commonDir>/worktrees` whose `gitdir` names `worktree`'s `.git`, if one only. */
function adminFolderOf(commonDir: string, worktree: string): string | undefined {
  const parent = path.join(commonDir, "worktrees");
  const dotGit = path.join(worktree, ".git");
  // The worktree's `.git` itself is not resolved: the agent may have made it a link (to another
  // workspace's `.git`, which that workspace's folder names too).
  const namesWorktree = (folder: string): boolean => {
    if (!isFolder(folder)) return false;
    const back = linkFile(path.join(folder, "gitdir"))?.trimEnd();
    if (back === undefined || back === "") return false;
    const named = path.resolve(folder, back);
    return path.basename(named) === ".git" && samePath(path.dirname(named), path.dirname(dotGit));
  };
  // The `.git` file's own claim first: one look when nothing changed.
  const content = linkFile(dotGit);
  if (content?.startsWith("gitdir: ")) {
    const folder = path.resolve(worktree, content.slice("gitdir: ".length, -1));
    if (
      path.dirname(folder) === parent &&
      gitdirLines(worktree, folder).includes(content) &&
      namesWorktree(folder)
    )
      return folder;
  }
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return undefined;
  }
  const found = names.map((name) => path.join(parent, name)).filter(namesWorktree);
  return found.length === 1 ? found[0] : undefined;
}

/**
 * The text of a small regular file (undefined when it is not one), read through a descriptor
 * opened only after `lstat` saw a regular file: a link the agent planted is never followed, nor a
 * FIFO waited on.
 */
function linkFile(file: string): string | undefined {
  let fd: number;
  try {
    if (!lstatSync(file).isFile()) return undefined;
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const bytes = Buffer.alloc(MAX_LINK_BYTES + 1);
    const read = readSync(fd, bytes, 0, bytes.length, 0);
    return read > MAX_LINK_BYTES ? undefined : bytes.toString("utf8", 0, read);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The `.git` files git writes for a worktree whose git folder is `admin`, byte for byte: the
 * absolute path (git's default) or the relative one (`worktree.useRelativePaths`). Nothing else
 * is accepted, not even what git would read the same: git and a path library disagree on spaces,
 * NUL bytes and `..` after a link, and an agent can write the difference.
 */
function gitdirLines(worktree: string, admin: string): string[] {
  const realAdmin = realOrSame(admin);
  return [realAdmin, path.relative(realOrSame(worktree), realAdmin)].map(
    (target) => `gitdir: ${target}\n`,
  );
}

/** The `commondir` files git writes (`../..`), or the common folder's absolute path. */
function commondirLines(commonDir: string): string[] {
  return ["../..\n", `${realOrSame(commonDir)}\n`];
}

function realOrSame(file: string): string {
  try {
    return realpathSync.native(file);
  } catch {
    return file;
  }
}

/** What a link file is, for a message: where it points, or what else stands there. */
function describeLink(file: string, content: string | undefined): string {
  if (content !== undefined) return shown(content.replace(/^gitdir: /, "").replace(/\n$/, ""));
  try {
    const info = lstatSync(file);
    if (info.isSymbolicLink()) return "a symbolic link";
    if (info.isDirectory()) return "a folder (a repository of its own)";
    return "a file git cannot read";
  } catch {
    return "missing";
  }
}

/** What the agent wrote, quoted for a message: control characters escaped, at most 200 characters. */
function shown(text: string): string {
  const cut = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return JSON.stringify(cut);
}

/**
 * Moves `file` (a file, folder or link) to `kept`. Across file systems (the workspaces folder in
 * the home folder, the run's folder in the repository) it is copied, links kept as links, then
 * removed; a FIFO or socket holds nothing to keep and is only removed. Says whether it kept it.
 */
function moveAside(file: string, kept: string): boolean {
  try {
    renameOwn(file, kept);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
  }
  const info = lstatSync(file);
  if (info.isFIFO() || info.isSocket()) {
    rmSync(file);
    return false;
  }
  // FIFOs and sockets inside a folder are left out of the copy (cpSync refuses them).
  const copied = (source: string) => {
    const entry = lstatSync(source);
    return !(entry.isFIFO() || entry.isSocket());
  };
  cpSync(file, kept, {
    recursive: true,
    verbatimSymlinks: true,
    errorOnExist: true,
    force: false,
    filter: copied,
  });
  rmSync(file, { recursive: true, force: true });
  return true;
}

/**
 * `rename`, also of a folder the agent made read-only (moving a folder rewrites its `..` entry,
 * which needs write permission on it): conductor's user owns it and may make it writable again.
 */
function renameOwn(file: string, to: string): void {
  try {
    renameSync(file, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM") throw error;
    // Through a descriptor of the folder itself: a link swapped in meanwhile is not followed.
    const fd = openSync(file, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      fchmodSync(fd, (fstatSync(fd).mode & 0o7777) | 0o700);
    } finally {
      closeSync(fd);
    }
    renameSync(file, to);
  }
}

function isFolder(file: string): boolean {
  try {
    return lstatSync(file).isDirectory();
  } catch {
    return false;
  }
}

function mkdirp(folder: string): string {
  mkdirSync(folder, { recursive: true });
  return folder;
}

/**
 * The repair of a worktree's link to its repository, as printed: git told the repository by its
 * folder (`--git-dir`), so that it works from anywhere, the worktree's own link being what is
 * broken.
 */
function repairCommand(commonDir: string, worktree: string): string {
  return shellCommand(["git", `--git-dir=${commonDir}`, "worktree", "repair", worktree]);
}
