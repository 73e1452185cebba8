import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { entryExists } from "../fs/entry-exists.js";
import { shellCommand } from "../hint/shell-quote.js";
import { processExists } from "../process/exists.js";

/**
 * A linked worktree's registration, written the way `git worktree add --no-checkout` writes it
 * (gitrepository-layout(5), `worktrees/<id>`): the worktree's folder with its `.git` file, and its
 * git folder under `<common dir>/worktrees/` holding `locked`, `HEAD`, `commondir` and `gitdir`.
 *
 * For a worktree on a new branch, git's add costs three processes (itself, `git branch`, `git
 * symbolic-ref`) and reads every other worktree's HEAD to refuse a branch that is checked out
 * elsewhere, which a branch made with the worktree cannot be: at 64 workspaces that was
 * the largest part of a workspace's git time. Where git's add would make something else than these
 * files ({@link WORKTREE_SETTINGS}), or a folder name git would change into another id, git's own
 * add is used instead ({@link canRegisterDirectly}).
 */

/**
 * Settings under which `git worktree add` makes more or other than the files written here: another
 * ref storage (reftable keeps a worktree's HEAD in its own tables), per-worktree config and sparse
 * checkouts (copied into the new worktree), relative paths (`worktree.useRelativePaths`), shared
 * permissions (`core.sharedRepository`). A regular expression of their names, for `git config
 * --get-regexp`, which prints them lowercased.
 */
export const WORKTREE_SETTINGS =
  /^(extensions\.(refstorage|worktreeconfig|relativeworktrees)|worktree\.userelativepaths|core\.(sharedrepository|sparsecheckout))$/;

/** Each setting's values under which git's add makes exactly what {@link registerWorktree} does. */
const AS_GIT_WRITES: Readonly<Record<string, readonly string[]>> = {
  "extensions.refstorage": ["files"],
  "extensions.worktreeconfig": ["false", "no", "off", "0"],
  "extensions.relativeworktrees": ["false", "no", "off", "0"],
  "worktree.userelativepaths": ["false", "no", "off", "0"],
  "core.sharedrepository": ["false", "umask", "0"],
  "core.sparsecheckout": ["false", "no", "off", "0"],
};

/** Folder names git uses as a worktree's id unchanged (its `sanitize_refname_component` keeps them). */
const PLAIN_ID = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;

/**
 * Whether {@link registerWorktree} writes what `git worktree add` would for `worktree`, in a
 * repository whose {@link WORKTREE_SETTINGS} are `settings` (`git config --get-regexp` lines).
 */
export function canRegisterDirectly(worktree: string, settings: readonly string[]): boolean {
  const id = path.basename(worktree);
  if (!PLAIN_ID.test(id) || id.endsWith(".lock")) return false;
  return settings.every((line) => {
    const space = line.indexOf(" ");
    // A key without a value is true.
    const [key, value] =
      space === -1 ? [line, "true"] : [line.slice(0, space), line.slice(space + 1)];
    return AS_GIT_WRITES[key.toLowerCase()]?.includes(value.trim().toLowerCase()) === true;
  });
}

/** The folder was there already, or git has a worktree registered there (a missing one). */
export class WorktreeFolderTakenError extends Error {
  override name = "WorktreeFolderTakenError";
}

/**
 * Registers `worktree` as a linked worktree of the repository whose common git folder is
 * `commonDir`, its HEAD on `branchRef` (a branch that exists, or that the checkout to come makes:
 * until then git sees the worktree on an unborn branch), locked with `lockReason`; nothing is
 * checked out. The folder must not exist ({@link WorktreeFolderTakenError} otherwise). Returns the
 * worktree's git folder.
 *
 * Written so that a conductor killed at any moment leaves what a resume already knows: the git
 * folder first, locked before anything else (`git worktree prune` leaves it alone), `gitdir` last
 * (until then git does not see it at all); then the worktree's folder, made under another name
 * with its `.git` inside and renamed into place, so it never stands there without one. Killed
 * between the two, the worktree is registered and its folder missing, as after a folder removed by
 * hand (a resume, or a new run setting the workspace aside, unlocks it; the folder being made is
 * removed with {@link removeStagedFolder}). Whatever this made is removed again if it fails half
 * way.
 */
export function registerWorktree(
  commonDir: string,
  worktree: string,
  branchRef: string,
  lockReason: string,
): string {
  const registered = registeredAt(commonDir, worktree);
  if (registered !== undefined) {
    const locked = entryExists(path.join(registered, "locked"));
    throw new WorktreeFolderTakenError(
      // The repository named (the user's shell may be anywhere), and this record alone: a prune
      // would drop the records of the user's own moved worktrees too.
      `'${worktree}' is a missing but already registered worktree (${path.basename(registered)}); ${locked ? `\`${shellCommand(["git", `--git-dir=${commonDir}`, "worktree", "unlock", worktree])}\`, then ` : ""}\`${shellCommand(["git", `--git-dir=${commonDir}`, "worktree", "remove", worktree])}\` clears its record`,
    );
  }
  const taken = () => new WorktreeFolderTakenError(`'${worktree}' already exists`);
  if (entryExists(worktree)) throw taken();
  removeStagedFolder(worktree);
  const real = resolvedFolder(worktree);
  let admin: string | undefined;
  let staged: string | undefined;
  try {
    admin = newAdminFolder(commonDir, path.basename(worktree));
    writeFileSync(path.join(admin, "locked"), `${lockReason}\n`);
    writeFileSync(path.join(admin, "HEAD"), `ref: ${branchRef}\n`);
    writeFileSync(path.join(admin, "commondir"), "../..\n");
    writeFileSync(path.join(admin, "gitdir"), `${path.join(real, ".git")}\n`);
    // Made as git makes a worktree's folder (its mode from the umask), under a name of this
    // process's own: another conductor making the same worktree at the same moment makes its
    // own, and of the two renames only one can put a folder in place.
    mkdirSync(stagedFolderOf(worktree));
    staged = stagedFolderOf(worktree);
    writeFileSync(path.join(staged, ".git"), `gitdir: ${realAdmin(commonDir, admin)}\n`);
    try {
      renameSync(staged, worktree);
    } catch (error) {
      // A folder made meanwhile (another conductor's worktree): a non-empty one refuses the rename.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOTEMPTY" || code === "EEXIST" || code === "ENOTDIR") throw taken();
      throw error;
    }
    staged = undefined;
    return admin;
  } catch (error) {
    if (staged !== undefined) rmSync(staged, { recursive: true, force: true });
    if (admin !== undefined) rmSync(admin, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Where {@link registerWorktree} of this process makes the worktree's folder before renaming it
 * into place: beside it, named after it and the process.
 */
function stagedFolderOf(worktree: string, pid = process.pid): string {
  return `${worktree}${STAGED_SUFFIX}${pid}`;
}

const STAGED_SUFFIX = ".conductor-new-";
/** What follows a staged folder's worktree name, with its pid (no pid before 2026-12-06). */
const STAGED_NAME = /^\.conductor-new(?:-(\d*[1-9]\d*))?$/;

/**
 * Removes the folders {@link registerWorktree} was making for `worktree` when a conductor killed
 * before its rename left them: named after a process that is gone (or with no process in the
 * name, as conductor named them before 2026-12-06), holding only their `.git`, which names the
 * worktree's git folder (`git worktree repair` run there would point that registration at it).
 * Anything else there is left alone, and so is the folder of a conductor still making it.
 */
export function removeStagedFolder(worktree: string): void {
  const name = path.basename(worktree);
  let entries: string[];
  try {
    entries = readdirSync(path.dirname(worktree));
  } catch {
    return; // no folder to look in
  }
  for (const entry of entries) {
    const staged = entry.startsWith(name) ? STAGED_NAME.exec(entry.slice(name.length)) : null;
    if (staged === null) continue;
    const pid = Number(staged[1] ?? 0);
    // This process's own is from a try of its that failed, or from a process gone that had its pid.
    if (pid > 0 && pid !== process.pid && processExists(pid)) continue;
    removeIfOnlyItsLink(path.join(path.dirname(worktree), entry));
  }
}

/** Removes a folder that holds nothing but the `.git` file of a linked worktree (or nothing). */
function removeIfOnlyItsLink(staged: string): void {
  try {
    if (!lstatSync(staged).isDirectory()) return;
    const entries = readdirSync(staged);
    // Its .git is a file naming a git folder (a repository's own .git folder is never taken).
    const ours =
      entries.length === 0 ||
      (entries.length === 1 &&
        entries[0] === ".git" &&
        lstatSync(path.join(staged, ".git")).isFile() &&
        readFileSync(path.join(staged, ".git"), "utf8").startsWith("gitdir: "));
    if (ours) rmSync(staged, { recursive: true, force: true });
  } catch {
    // gone meanwhile, or unreadable: left alone
  }
}

/**
 * `<commonDir>/worktrees/<id>`, made here: the folder's name, or with a number after it when that
 * is taken (an earlier worktree of the same name), as git chooses.
 */
function newAdminFolder(commonDir: string, id: string): string {
  const parent = path.join(commonDir, "worktrees");
  mkdirSync(parent, { recursive: true });
  for (let counter = 0; ; counter++) {
    const admin = path.join(parent, counter === 0 ? id : `${id}${counter}`);
    try {
      mkdirSync(admin);
      return admin;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/** The git folder as git writes it into `.git`: under the common folder's real path. */
function realAdmin(commonDir: string, admin: string): string {
  return path.join(realpathSync.native(commonDir), "worktrees", path.basename(admin));
}

/**
 * The git folder of the worktree git has registered at `worktree`, if one is (its `gitdir` names
 * the folder's `.git`), found from the repository's side: the worktree's own `.git` is not read.
 * Git's add refuses such a path while the entry is there.
 */
export function registeredAt(commonDir: string, worktree: string): string | undefined {
  const parent = path.join(commonDir, "worktrees");
  let ids: string[];
  try {
    ids = readdirSync(parent);
  } catch {
    return undefined;
  }
  const dotGit = path.join(resolvedFolder(worktree), ".git");
  const id = ids.find((id) => namedWorktree(path.join(parent, id)) === dotGit);
  return id === undefined ? undefined : path.join(parent, id);
}

/**
 * What each `gitdir` file read by {@link namedWorktree} named, with the file's identity when it
 * was read. Every new workspace looks through every registration, as git's add does: reading
 * all 64 of a 64-workspace run took half a millisecond of conductor's CPU, and a `stat` costs
 * half of a read. A file git rewrote since (`git worktree move`, `repair`) has another
 * change time, and is read again.
 */
const namedWorktrees = new Map<string, { identity: string; named: string }>();

/**
 * How much older than the moment it is read a file's change time must be for what it holds to
 * be kept (git's rule for racily clean files): a file system stamps times to a clock tick, and a
 * rewrite of the same length within the tick of the read would keep the identity.
 */
const SETTLED_NS = 50_000_000n;

/** The `.git` that the registration in `admin` names (resolved from there), or undefined. */
function namedWorktree(admin: string): string | undefined {
  const file = path.join(admin, "gitdir");
  let named: string;
  try {
    const readAt = BigInt(Date.now()) * 1_000_000n;
    const info = statSync(file, { bigint: true });
    const identity = `${info.dev}:${info.ino}:${info.size}:${info.ctimeNs}`;
    const known = namedWorktrees.get(file);
    if (known?.identity === identity) return known.named;
    named = path.resolve(admin, readFileSync(file, "utf8").trim());
    if (info.ctimeNs < readAt - SETTLED_NS) namedWorktrees.set(file, { identity, named });
  } catch {
    // Not a registration git reads (a stray file in the folder, no gitdir): git skips it too.
    return undefined;
  }
  return named;
}

/**
 * `folder` with its parent's symlinks resolved (the folder itself may not exist yet), as git
 * records it. The system's realpath: one call, where Node's own looks at each part of the path.
 */
function resolvedFolder(folder: string): string {
  const absolute = path.resolve(folder);
  try {
    return path.join(realpathSync.native(path.dirname(absolute)), path.basename(absolute));
  } catch {
    return absolute;
  }
}
