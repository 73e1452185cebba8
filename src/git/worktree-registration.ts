import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";

/**
 * A linked worktree's registration, written the way `git worktree add --no-checkout` writes it
 * (gitrepository-layout(5), `worktrees/<id>`): the worktree's folder with its `.git` file, and its
 * git folder under `<common dir>/worktrees/` holding `HEAD`, `commondir`, `gitdir` and `locked`.
 *
 * For a worktree on a new branch, git's add costs three processes (itself, `git branch`, `git
 * symbolic-ref`) before the checkout's fourth, and reads every other worktree's HEAD to refuse a
 * branch that is checked out elsewhere, which a branch made for this worktree cannot be: at 64
 * workspaces that was the largest part of a workspace's git time. With the registration written
 * here, one `git checkout --force -b` makes the branch and checks it out (see `addWorktree`).
 * Where git's add would do more than these files (it copies `config.worktree` and sparse-checkout
 * patterns, and turns a folder name git cannot use into another id), git's own add is used
 * instead ({@link canRegisterDirectly}).
 */

/** Folder names git uses as a worktree's id unchanged (its `sanitize_refname_component` keeps them). */
const PLAIN_ID = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;

/** Whether {@link registerWorktree} writes what `git worktree add` would for this worktree. */
export function canRegisterDirectly(commonDir: string, worktree: string): boolean {
  const id = path.basename(worktree);
  if (!PLAIN_ID.test(id) || id.endsWith(".lock")) return false;
  // The main checkout's per-worktree config and sparse-checkout patterns, which git's add copies
  // into a new worktree when the repository uses them.
  return (
    !existsSync(path.join(commonDir, "config.worktree")) &&
    !existsSync(path.join(commonDir, "info", "sparse-checkout"))
  );
}

/** The folder was there already, or git has a worktree registered there (a missing one). */
export class WorktreeFolderTakenError extends Error {
  override name = "WorktreeFolderTakenError";
}

/**
 * Registers `worktree` as a linked worktree of the repository whose common git folder is
 * `commonDir`, its HEAD on `branchRef` (which need not exist yet), locked with `lockReason`;
 * nothing is checked out. The folder must not exist: it is created here, in one step that fails if another
 * process made it first ({@link WorktreeFolderTakenError}). Whatever this made is removed again if
 * it fails half way. Returns the worktree's git folder.
 */
export function registerWorktree(
  commonDir: string,
  worktree: string,
  branchRef: string,
  lockReason: string,
): string {
  const registered = registeredAt(commonDir, worktree);
  if (registered !== undefined) {
    throw new WorktreeFolderTakenError(
      `'${worktree}' is a missing but already registered worktree (${path.basename(registered)}); \`git worktree prune\` clears it`,
    );
  }
  try {
    mkdirSync(worktree);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST")
      throw new WorktreeFolderTakenError(`'${worktree}' already exists`);
    throw error;
  }
  let admin: string | undefined;
  try {
    admin = newAdminFolder(commonDir, path.basename(worktree));
    // Locked first, as git does: a `git worktree prune` meanwhile leaves a locked entry alone.
    writeFileSync(path.join(admin, "locked"), `${lockReason}\n`);
    writeFileSync(path.join(admin, "HEAD"), `ref: ${branchRef}\n`);
    writeFileSync(path.join(admin, "commondir"), "../..\n");
    writeFileSync(path.join(admin, "gitdir"), `${path.join(realpathSync(worktree), ".git")}\n`);
    writeFileSync(path.join(worktree, ".git"), `gitdir: ${realAdmin(commonDir, admin)}\n`);
    return admin;
  } catch (error) {
    if (admin !== undefined) rmSync(admin, { recursive: true, force: true });
    rmSync(worktree, { recursive: true, force: true });
    throw error;
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
  return path.join(realpathSync(commonDir), "worktrees", path.basename(admin));
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
  const id = ids.find((id) => {
    try {
      const named = readFileSync(path.join(parent, id, "gitdir"), "utf8").trim();
      return path.resolve(parent, id, named) === dotGit;
    } catch {
      return false;
    }
  });
  return id === undefined ? undefined : path.join(parent, id);
}

/** `folder` with its parent's symlinks resolved (the folder itself may not exist yet), as git records it. */
function resolvedFolder(folder: string): string {
  const absolute = path.resolve(folder);
  try {
    return path.join(realpathSync(path.dirname(absolute)), path.basename(absolute));
  } catch {
    return absolute;
  }
}
