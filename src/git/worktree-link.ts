import {
  closeSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
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
  const admin = adminFolderOf(commonDir, worktree);
  if (admin === undefined) {
    throw new WorktreeLinkError(
      `no git folder under ${path.join(commonDir, "worktrees")} names the worktree ${worktree} (its gitdir file was changed or removed); conductor runs no git there: look at it, then \`git worktree repair\` it`,
    );
  }
  const repairs: string[] = [];
  let keptIn: string | undefined;
  const keep = (file: string, name: string): string => {
    keptIn ??= mkdtempSync(path.join(mkdirp(keepUnder), "worktree-link-"));
    const kept = path.join(keptIn, name);
    try {
      renameSync(file, kept);
    } catch (error) {
      throw new WorktreeLinkError(
        `could not move ${file} aside (${(error as Error).message}); conductor runs no git in ${worktree}: put it back with \`git worktree repair\``,
      );
    }
    return kept;
  };

  const dotGit = path.join(worktree, ".git");
  const claimed = gitdirLine(dotGit, "gitdir: ");
  if (claimed === undefined || !samePath(path.resolve(worktree, claimed), admin)) {
    const was = describeLink(dotGit, claimed);
    const kept = was === "missing" ? undefined : keep(dotGit, "dot-git");
    writeFileSync(dotGit, `gitdir: ${admin}\n`, { flag: "wx" });
    repairs.push(
      `the agent pointed the worktree's .git at ${was} instead of ${admin}; put back${kept === undefined ? "" : `, what stood there kept in ${kept}`}`,
    );
  }

  const commondir = path.join(admin, "commondir");
  const common = gitdirLine(commondir, "");
  if (common === undefined || !samePath(path.resolve(admin, common), commonDir)) {
    const was = describeLink(commondir, common);
    const kept = was === "missing" ? undefined : keep(commondir, "commondir");
    // What git writes: the common folder is two levels up from `<common>/worktrees/<id>`.
    writeFileSync(commondir, "../..\n", { flag: "wx" });
    repairs.push(
      `the agent pointed the worktree's commondir at ${was} instead of ${commonDir}; put back${kept === undefined ? "" : `, what stood there kept in ${kept}`}`,
    );
  }
  return repairs;
}

/** The folder under `<commonDir>/worktrees` whose `gitdir` names `worktree`'s `.git`, if one only. */
function adminFolderOf(commonDir: string, worktree: string): string | undefined {
  const parent = path.join(commonDir, "worktrees");
  const dotGit = path.join(worktree, ".git");
  const namesWorktree = (folder: string): boolean => {
    if (!isFolder(folder)) return false;
    const back = gitdirLine(path.join(folder, "gitdir"), "");
    return back !== undefined && samePath(path.resolve(folder, back), dotGit);
  };
  // The `.git` file's own claim first: one look when nothing changed.
  const claimed = gitdirLine(dotGit, "gitdir: ");
  if (claimed !== undefined) {
    const folder = path.resolve(worktree, claimed);
    if (path.dirname(folder) === parent && namesWorktree(folder)) return folder;
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
 * The one line of a small regular file, without `prefix` (undefined when it is not such a file
 * or does not start so). Read through a descriptor opened without following links or blocking on
 * a FIFO, so what the agent planted there is never followed.
 */
function gitdirLine(file: string, prefix: string): string | undefined {
  let fd: number;
  try {
    if (!lstatSync(file).isFile()) return undefined;
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const bytes = Buffer.alloc(MAX_LINK_BYTES + 1);
    const read = readSync(fd, bytes, 0, bytes.length, 0);
    if (read > MAX_LINK_BYTES) return undefined;
    const text = bytes.toString("utf8", 0, read);
    const line = text.endsWith("\n") ? text.slice(0, -1) : text;
    if (line.includes("\n") || !line.startsWith(prefix)) return undefined;
    const value = line.slice(prefix.length).trim();
    return value === "" ? undefined : value;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** What a link file is, for a message: where it points, or what else stands there. */
function describeLink(file: string, value: string | undefined): string {
  if (value !== undefined) return value;
  try {
    const info = lstatSync(file);
    if (info.isSymbolicLink()) return "a symbolic link";
    if (info.isDirectory()) return "a folder (a repository of its own)";
    return "a file git cannot read";
  } catch {
    return "missing";
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
