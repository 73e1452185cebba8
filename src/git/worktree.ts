import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { isExecutable } from "../process/find-on-path.js";
import type { CheckoutHook, PostCheckoutHook } from "./checkout-hook.js";
import { NEUTRAL_IDENTITY } from "./commit-identity.js";
import { isAncestor } from "./integrity.js";
import {
  GitCommandError,
  NO_CODE_FROM_CONFIG,
  runGit,
  runGitInShell,
  runGitScript,
  runPlainGitInShell,
} from "./run-git.js";
import { isKeptPath, parseStatus, type StatusEntry } from "./status-entries.js";
import {
  canRegisterDirectly,
  registerWorktree,
  removeStagedFolder,
} from "./worktree-registration.js";

/**
 * Git operations on workspaces. Changes to worktree metadata (git's add, remove, prune, branch
 * deletion) go through {@link GitMetadataQueue} so that parallel workspaces never collide on git's
 * lock files; a registration conductor writes itself reads no other worktree and does not need
 * it. Commits in different worktrees use different index files and run in parallel.
 */

/** Runs git metadata changes of one repository one at a time, in order. */
export class GitMetadataQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `operation` after every operation queued before it. */
  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(operation, operation);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** The last lines git printed on failure. */
export function gitMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.trim().split("\n").filter(Boolean).slice(-3).join(" ");
}

/**
 * Runs git with retries when another git process (outside our queue, e.g. a second conductor
 * or the user's editor) holds a lock file or is half-way through adding a worktree.
 */
export function git(cwd: string, args: readonly string[]): Promise<string> {
  return withLockRetry(() => runGit(cwd, args));
}

/**
 * {@link git} in a shell of the pool (see runGitInShell). A fork of Node costs about a
 * millisecond of its CPU and blocks it until git has started, and a run's start is Node's work
 * alone: the questions asked there (the dirty checkout, the branches, the env files, the size of
 * a checkout) take shells the workspaces' git then reuses. Measured: a 16-workspace run forked
 * Node for 4 git commands and 6 shells before, for the same 6 shells after.
 */
export function gitInShell(cwd: string, args: readonly string[]): Promise<string> {
  return withLockRetry(() => runGitInShell(cwd, args));
}

/**
 * Runs a git operation again, with growing pauses, while another process holds a lock it needs
 * or is writing a new worktree's metadata: `git worktree add` creates `.git/worktrees/<name>/`
 * before it fills `commondir`, and a git that lists worktrees meanwhile (another conductor run)
 * stops at the empty file.
 */
export async function withLockRetry(
  operation: () => Promise<string>,
  /** Undoes what a failed try left before the next one (see {@link addWorktree}). */
  beforeRetry?: (error: GitCommandError) => Promise<void>,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof GitCommandError) || !isBusy(error) || attempt >= 8) throw error;
      await beforeRetry?.(error);
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}

/** Whether git failed on another process's lock or half-made worktree: worth a retry. */
function isBusy(error: GitCommandError): boolean {
  return (
    /\.lock'?:? File exists|could not lock|Unable to create .*\.lock/i.test(error.message) ||
    /failed to read .*worktrees\/[^/]+\/(commondir|gitdir|HEAD)/.test(error.message)
  );
}

/** Whether a local branch exists. */
export async function branchExists(root: string, branch: string): Promise<boolean> {
  const out = await git(root, ["for-each-ref", "--format=%(refname)", `refs/heads/${branch}`]);
  return out.trim() !== "";
}

/** Every local branch by its short name: one git process for a whole plan's worth of checks. */
export async function localBranches(root: string): Promise<Set<string>> {
  const out = await gitInShell(root, ["for-each-ref", "--format=%(refname)", "refs/heads/"]);
  return new Set(
    out
      .split("\n")
      .filter((line) => line.startsWith("refs/heads/"))
      .map((line) => line.slice("refs/heads/".length)),
  );
}

/**
 * The existing branches that keep git from making each of `planned`: it keeps a branch as a file
 * under refs/heads/, so `a` and `a/b` cannot both be branches. An existing branch of the same
 * name is not one of them.
 */
export function branchesInTheWay(
  planned: readonly string[],
  existing: ReadonlySet<string>,
): { branch: string; existing: string }[] {
  const parents = (name: string) =>
    [...name.matchAll(/\//g)].map((slash) => name.slice(0, slash.index));
  const wanted = new Set(planned);
  const clashes: { branch: string; existing: string }[] = [];
  for (const branch of planned) {
    for (const parent of parents(branch))
      if (existing.has(parent)) clashes.push({ branch, existing: parent });
  }
  for (const name of existing) {
    for (const parent of parents(name))
      if (wanted.has(parent)) clashes.push({ branch: parent, existing: name });
  }
  return clashes;
}

/** One entry of `git worktree list`. */
export interface WorktreeEntry {
  /** The path git recorded (git resolves symlinks in it). */
  path: string;
  /** The branch checked out, without refs/heads/; undefined when detached. */
  branch: string | undefined;
  /** Git marks it prunable: its folder is gone. */
  prunable: boolean;
  /** Why it is locked ("" for no reason given); undefined when it is not. */
  locked: string | undefined;
}

/** Every worktree of the repository, the main checkout first. */
export async function listWorktrees(root: string): Promise<WorktreeEntry[]> {
  const out = await git(root, ["worktree", "list", "--porcelain"]);
  const entries: WorktreeEntry[] = [];
  for (const line of out.split("\n")) {
    const current = entries[entries.length - 1];
    if (line.startsWith("worktree ")) {
      entries.push({
        path: line.slice("worktree ".length),
        branch: undefined,
        prunable: false,
        locked: undefined,
      });
    } else if (current && line.startsWith("branch refs/heads/")) {
      current.branch = line.slice("branch refs/heads/".length);
    } else if (current && line.startsWith("prunable")) {
      current.prunable = true;
    } else if (current && (line === "locked" || line.startsWith("locked "))) {
      current.locked = line.slice("locked ".length);
    }
  }
  return entries;
}

/**
 * Whether two paths name the same place. Git records real paths, while a workspaces folder may
 * be reached through a symlink (a symlinked home, macOS's /tmp), so both sides are resolved;
 * a path that does not exist is compared through its nearest existing parent.
 */
export function samePath(a: string, b: string): boolean {
  return resolvedPath(a) === resolvedPath(b);
}

function resolvedPath(file: string): string {
  const absolute = path.resolve(file);
  try {
    // The system's realpath: one call, where Node's own looks at each part of the path.
    return realpathSync.native(absolute);
  } catch {
    const parent = path.dirname(absolute);
    return parent === absolute
      ? absolute
      : path.join(resolvedPath(parent), path.basename(absolute));
  }
}

/** Whether `worktreePath` is registered as a worktree of the repository. */
export async function isRegisteredWorktree(root: string, worktreePath: string): Promise<boolean> {
  return (await listWorktrees(root)).some((entry) => samePath(entry.path, worktreePath));
}

/** Where a new workspace's worktree goes, on which new branch, from which start. */
export interface NewWorktree {
  branch: string;
  path: string;
  startPoint: string;
}

/**
 * How {@link addWorktree} fits into a run: where the post-checkout hook would be, and the
 * queue that runs changes of the repository's worktree metadata one at a time.
 */
export interface AddAround {
  hook: CheckoutHook;
  serialize?: (change: () => Promise<void>) => Promise<void>;
}

/**
 * `git worktree add --no-track -b <branch> <path> <start>`, written directly where git's add would
 * make nothing else ({@link canRegisterDirectly}): the worktree's registration
 * ({@link registerWorktree}) with its HEAD on the branch to come, then one `git checkout -f -b`
 * there, which makes the branch only if no such branch exists (as `git branch` makes it) and
 * checks it out (the checkout git's add would do), then the `post-checkout` hook, if there is one,
 * through `serialize`: hooks ran one at a time before. Where a `reference-transaction` hook would
 * see the branch made, the branch comes first, made with the repository's hooks (`git update-ref`),
 * then the registration and a `reset --hard`; where git's add would differ, git's own add with
 * `--no-checkout` makes branch and registration, through `serialize` (a git listing worktrees
 * stops at another add's half-made one). The checkout writes only the new worktree's own index
 * and files.
 *
 * The worktree is made locked ({@link CHECKOUT_PENDING}) and unlocked when checkout and hook are
 * done: a conductor killed in between leaves that mark, and the resume finishes the checkout
 * ({@link finishCutOffCheckout}), making the branch if it is not there yet; no `git worktree
 * prune` takes the half-made worktree meanwhile. Killed after the branch and before the
 * registration (the last two ways), it leaves a branch with no work and no worktree, which a
 * resume takes as its own, as after git's add (which makes the branch first).
 *
 * If it fails half way, the branch this add made and any half-made folder are removed, so a retry
 * does not fail on them. What was refused because it already existed belongs to someone else
 * (another conductor racing for the same workspace) and is left alone.
 */
export async function addWorktree(
  root: string,
  options: NewWorktree,
  around: AddAround,
): Promise<void> {
  const serialize = around.serialize ?? ((change) => change());
  mkdirSync(path.dirname(options.path), { recursive: true });
  const found = await around.hook.find();
  if (!canRegisterDirectly(options.path, found.worktreeSettings)) {
    await addWithGit(root, options, serialize);
  } else if (isExecutable(path.join(found.folder, "reference-transaction"))) {
    await registerOnNewBranch(root, found.commonDir, options);
  } else {
    // One git process makes the branch and checks it out: the branch alone cost one more.
    registerWorktree(
      found.commonDir,
      options.path,
      `refs/heads/${options.branch}`,
      CHECKOUT_PENDING,
    );
    await checkOutOrRemove(root, options, around.hook, serialize);
    return;
  }
  await checkOutOrRemove(
    root,
    { branch: options.branch, path: options.path },
    around.hook,
    serialize,
  );
}

/** The branch (create-only), then the worktree's registration written directly. */
async function registerOnNewBranch(
  root: string,
  commonDir: string,
  options: NewWorktree,
): Promise<void> {
  const ref = `refs/heads/${options.branch}`;
  // An empty old value: git refuses when the branch exists ("reference already exists").
  // Retried while another process holds the branch's lock: it may be giving up on it.
  await gitInShell(root, [
    "update-ref",
    "-m",
    `branch: Created from ${options.startPoint}`,
    "--end-of-options",
    ref,
    `${options.startPoint}^{commit}`,
    "",
  ]);
  try {
    registerWorktree(commonDir, options.path, ref, CHECKOUT_PENDING);
  } catch (error) {
    // The branch is this add's (made a moment ago); what stood at the folder is not.
    await removeOwnBranch(root, options.branch, "");
    throw error;
  }
}

/** Git's own `worktree add --no-checkout -b`, locked for the checkout to come. */
async function addWithGit(
  root: string,
  options: NewWorktree,
  serialize: (change: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const add = () =>
    runGitInShell(root, [
      "worktree",
      "add",
      "--quiet",
      "--no-track",
      "--no-checkout",
      "--lock",
      "--reason",
      CHECKOUT_PENDING,
      "-b",
      options.branch,
      options.path,
      options.startPoint,
    ]);
  try {
    // git makes the branch (`git branch`) before it reads the other worktrees, where another
    // add's half-made folder can stop it: the next try would find its own branch in the way.
    await serialize(async () => {
      await withLockRetry(add, (error) => removeOwnBranch(root, options.branch, error.message));
    });
  } catch (error) {
    const message = gitMessage(error);
    // Refused at `git branch` (the branch exists, or another process holds its lock): git made
    // nothing, and the branch and any folder are another's.
    if (BRANCH_TAKEN.test(message) || failedOnBranchLock(options.branch, (error as Error).message))
      throw error;
    // Refused at the folder, after git made the branch: the branch is ours, the folder is not.
    if (!FOLDER_TAKEN.test(message))
      await rm(options.path, { recursive: true, force: true }).catch(() => {});
    await serialize(async () => {
      await pruneQuietly(root, options.path);
      await removeOwnBranch(root, options.branch, (error as Error).message);
    });
    throw error;
  }
}

/**
 * Why conductor's new worktrees are locked until their checkout is done: the mark a resume
 * looks for (`git worktree list` shows it).
 */
export const CHECKOUT_PENDING = "conductor: checkout not finished";

/**
 * Whether `worktrees` hold one at `place.path`, on `place.branch`, still locked for its checkout:
 * what a worktree step cut off before its checkout was done leaves (see {@link addWorktree}), its
 * branch possibly not made yet.
 */
export function checkoutPendingAt(
  worktrees: readonly WorktreeEntry[],
  place: { branch: string; path: string },
): boolean {
  return worktrees.some(
    (entry) =>
      entry.locked === CHECKOUT_PENDING &&
      entry.branch === place.branch &&
      samePath(entry.path, place.path),
  );
}

/** A checkout or `post-checkout` hook that failed: never a sign of someone else's branch. */
export class WorktreeCheckoutError extends Error {}

/**
 * The checkout of a worktree whose metadata {@link addWorktree} made, then its unlocking. With a
 * `startPoint`, the checkout makes the worktree's branch there (refused when the branch exists);
 * without, the branch was made before. If it fails, the worktree and the branch this add made are
 * removed, so that a retry starts clean (git's own add would leave them); a branch git refused
 * because it exists is another process's and stays, and that refusal is thrown as git gave it.
 */
async function checkOutOrRemove(
  root: string,
  options: Omit<NewWorktree, "startPoint"> & { startPoint?: string },
  hook: CheckoutHook,
  serialize: (change: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const lock = lockFileOf(options.path);
  let branchIsOurs = options.startPoint === undefined;
  try {
    if (options.startPoint === undefined) {
      await runPlainGitInShell(options.path, [
        "reset",
        "--hard",
        "--no-recurse-submodules",
        "--quiet",
      ]);
    } else {
      const startPoint = options.startPoint;
      // Retried while another process holds the branch's lock: it may be giving up on it.
      await withLockRetry(() =>
        runPlainGitInShell(options.path, [
          "checkout",
          "-f",
          "--quiet",
          "--no-track",
          "--no-recurse-submodules",
          "-b",
          options.branch,
          // A commit id or a branch name, never an option; `--` ends the revisions.
          startPoint,
          "--",
        ]),
      );
      branchIsOurs = true;
    }
    const found = await hook.find();
    if (isExecutable(found.file)) await serialize(() => runHook(options.path, found));
    if (lock !== undefined) rmSync(lock, { force: true });
  } catch (error) {
    await rm(options.path, { recursive: true, force: true }).catch(() => {});
    await serialize(async () => {
      if (lock !== undefined) rmSync(lock, { force: true }); // or prune keeps the entry
      await pruneQuietly(root, options.path);
      if (branchIsOurs) await removeOwnBranch(root, options.branch, "");
    });
    if (!branchIsOurs && isBranchTaken(error)) throw error;
    throw new WorktreeCheckoutError((error as Error).message);
  }
}

/**
 * The `locked` file of a linked worktree, in the folder its `.git` file names (undefined when
 * that cannot be read: the worktree is then left locked, which only keeps it from being pruned).
 */
function lockFileOf(worktree: string): string | undefined {
  try {
    const line = readFileSync(path.join(worktree, ".git"), "utf8").split("\n")[0] ?? "";
    if (!line.startsWith("gitdir: ")) return undefined;
    return path.join(path.resolve(worktree, line.slice("gitdir: ".length)), "locked");
  } catch {
    return undefined;
  }
}

/** Drops the record of the half-made worktree at `worktreePath` (and no other), if it can. */
async function pruneQuietly(root: string, worktreePath: string): Promise<void> {
  await pruneWorktree(root, worktreePath).catch(() => {});
}

/**
 * Runs the post-checkout hook ($1, absolute) as `git worktree add` does: in the new worktree,
 * with GIT_DIR and GIT_WORK_TREE unset, git's exec path ($2) first on PATH (hooks may use git's
 * own scripts, `. git-sh-setup`), no input, its output on stderr, and the arguments no previous
 * HEAD, the new HEAD, a branch checkout. A failing hook fails the add, as in git.
 */
const HOOK_SCRIPT = `head=$(git rev-parse HEAD) || exit
none=0000000000000000000000000000000000000000
[ \${#head} -eq 64 ] && none=\${none}000000000000000000000000
unset GIT_DIR GIT_WORK_TREE
export PATH="$2:$PATH" GIT_EXEC_PATH="$2" GIT_PREFIX=
exec "$1" "$none" "$head" 1 </dev/null >&2
`;

async function runHook(worktree: string, hook: PostCheckoutHook): Promise<void> {
  await runGitScript(worktree, HOOK_SCRIPT, [hook.file, hook.execPath]);
}

/**
 * Finishes the checkout of a worktree whose conductor was killed before it was done (see
 * {@link addWorktree}; the worktree is still locked as {@link CHECKOUT_PENDING}): without it every
 * file could look deleted to the agent and to the commit, and the post-checkout hook would never
 * have run. Only for a worktree step cut off before it was recorded: no agent has worked there,
 * and the checkout is done again from the start, making the branch at `startPoint` where the cut
 * came before the checkout made it. If it fails, the worktree and the branch it made are removed,
 * as after a failed add.
 */
export async function finishCutOffCheckout(
  root: string,
  options: NewWorktree,
  around: AddAround,
): Promise<void> {
  const lock = lockFileOf(options.path);
  if (lock === undefined || lockReason(lock) !== CHECKOUT_PENDING) return;
  // Cut off before its checkout made the branch (see addWorktree): the checkout makes it now.
  const made = await branchExists(root, options.branch);
  await checkOutOrRemove(
    root,
    made ? { branch: options.branch, path: options.path } : options,
    around.hook,
    around.serialize ?? ((change) => change()),
  );
}

/**
 * Unlocks the worktree at `worktreePath` if conductor locked it for a checkout that never
 * finished and its folder is gone (removed by hand after a killed run, or never renamed into
 * place: see `registerWorktree`): git would neither prune it nor add a worktree there again.
 */
export async function unlockMissingPendingCheckout(
  root: string,
  worktreePath: string,
): Promise<void> {
  if (existsSync(worktreePath)) return;
  // Killed while conductor made the folder (see registerWorktree).
  removeStagedFolder(worktreePath);
  for (const entry of await listWorktrees(root)) {
    if (entry.locked === CHECKOUT_PENDING && samePath(entry.path, worktreePath))
      await git(root, ["worktree", "unlock", entry.path]);
  }
}

/** What a worktree's `locked` file says, or undefined when it is not locked. */
function lockReason(lock: string): string | undefined {
  try {
    return readFileSync(lock, "utf8").trim();
  } catch {
    return undefined;
  }
}

/**
 * Whether git failed on the lock of `branch`'s own ref: another process is writing that branch,
 * and whatever it holds is that process's. `message` is all git printed (the ref is named in the
 * first line, before git's advice).
 */
export function failedOnBranchLock(branch: string, message: string): boolean {
  const ref = `refs/heads/${branch}`;
  return message.includes(`${ref}.lock`) || message.includes(`'${ref}'`);
}

/**
 * Deletes the branch a failed `git worktree add -b` made (it runs `git branch` first), unless
 * git failed on that branch's own lock. A failure to look or delete is left to the next try, or
 * to git's own error, to report.
 */
async function removeOwnBranch(root: string, branch: string, message: string): Promise<void> {
  if (failedOnBranchLock(branch, message)) return;
  try {
    if (await branchExists(root, branch)) {
      await git(root, ["branch", "-D", "--end-of-options", branch]);
    }
  } catch {
    // the add's own error says what is wrong
  }
}

/**
 * `git worktree add <path> <branch>`: a worktree on an existing branch (a task's `branch:`).
 * Git refuses a branch checked out elsewhere; a half-made folder is removed, the branch is
 * the user's and stays as it was.
 */
export async function checkoutWorktree(
  root: string,
  options: { branch: string; path: string },
): Promise<void> {
  await mkdir(path.dirname(options.path), { recursive: true });
  try {
    await git(root, ["worktree", "add", "--quiet", options.path, options.branch]);
  } catch (error) {
    if (!FOLDER_TAKEN.test(gitMessage(error)))
      await rm(options.path, { recursive: true, force: true }).catch(() => {});
    await pruneQuietly(root, options.path);
    throw error;
  }
}

/** Whether git refused a branch because a worktree (or the main checkout) has it checked out. */
export function isCheckedOutElsewhere(error: unknown): boolean {
  return /is already (?:checked out|used by worktree) at/.test(gitMessage(error));
}

/** Whether git refused to create a branch because one of that name exists. */
export function isBranchTaken(error: unknown): boolean {
  return BRANCH_TAKEN.test(gitMessage(error));
}

/**
 * How `git worktree add -b` refuses a branch that exists, before it creates anything (the second
 * form when another process created the branch a moment earlier).
 */
const BRANCH_TAKEN = /a branch named .* already exists|cannot lock ref .*reference already exists/;
/** How it refuses a folder that exists or is another worktree's (after creating the branch). */
const FOLDER_TAKEN = /' already exists|already registered worktree/;

/** Removes a worktree (its folder and metadata). `force` also removes uncommitted changes. */
export async function removeWorktree(
  root: string,
  worktreePath: string,
  force: boolean,
): Promise<void> {
  if (await isRegisteredWorktree(root, worktreePath)) {
    await git(root, ["worktree", "remove", ...(force ? ["--force", "--force"] : []), worktreePath]);
  } else if (existsSync(worktreePath) && force) {
    await rm(worktreePath, { recursive: true, force: true });
  }
  await pruneWorktree(root, worktreePath);
}

/**
 * Drops git's record of the worktree at `worktreePath` once its folder is gone, and no other
 * one: `git worktree prune` drops the record of every missing worktree, the user's own too (on a
 * disk not mounted now, or moved by hand), and with it that worktree's HEAD (a detached one's
 * commits become unreachable) and the way back (`git worktree repair` needs the record). A
 * locked one stays, as prune leaves it. Returns the paths whose record was dropped.
 */
export async function pruneWorktree(root: string, worktreePath: string): Promise<string[]> {
  if (existsSync(worktreePath)) return [];
  const dropped: string[] = [];
  for (const entry of await listWorktrees(root)) {
    if (!entry.prunable || entry.locked !== undefined || !samePath(entry.path, worktreePath))
      continue;
    // For a missing folder, remove drops only the record.
    await git(root, ["worktree", "remove", entry.path]);
    dropped.push(entry.path);
  }
  return dropped;
}

/**
 * A dependency's branch git could not merge into a workspace. The merge was aborted, so the
 * worktree holds no conflict to resolve: whoever fixes it must start that merge again by hand.
 */
export class DependencyMergeError extends Error {
  constructor(
    readonly branch: string,
    readonly gitError: unknown,
  ) {
    super(gitMessage(gitError));
    this.name = "DependencyMergeError";
  }
}

/**
 * Merges into the worktree's branch the dependency branches it does not contain yet; aborts the
 * merge on conflict. Returns how many it merged.
 */
export async function mergeMissing(worktree: string, branches: readonly string[]): Promise<number> {
  let merged = 0;
  for (const branch of branches) {
    if (await isAncestor(worktree, `refs/heads/${branch}`, "HEAD")) continue;
    try {
      await git(worktree, ["merge", "--no-edit", "--no-ff", "--end-of-options", branch]);
    } catch (error) {
      await git(worktree, ["merge", "--abort"]).catch(() => {});
      throw new DependencyMergeError(branch, error);
    }
    merged++;
  }
  return merged;
}

/**
 * Puts the worktree back to its branch's last commit: tracked files restored, new untracked files
 * removed. Ignored files (dependencies, copied env files) stay, so setup need not run again.
 */
export async function resetWorktree(worktree: string): Promise<void> {
  await git(worktree, [...NO_CODE_FROM_CONFIG, "reset", "--hard", "--quiet", "HEAD"]);
  await git(worktree, ["clean", "-fd", "--quiet", "-e", ".context/"]);
}

/** Paths of uncommitted changes in a worktree (modified, added, deleted, untracked). */
export async function uncommittedPaths(
  worktree: string,
  ignoring: readonly string[] = [],
): Promise<string[]> {
  return (await uncommittedEntries(worktree, ignoring)).map((entry) => entry.path);
}

/**
 * The worktree's `git status --porcelain=v1 -z --untracked-files=all --no-renames`, as text: one
 * field per entry (no renames), every untracked file listed on its own. Read by a shell of the
 * pool: the commit step of every workspace asks for it.
 */
export function worktreeStatus(worktree: string): Promise<string> {
  return runPlainGitInShell(worktree, [
    "status",
    "--porcelain=v1",
    "-z",
    "--untracked-files=all",
    "--no-renames",
  ]);
}

/**
 * Uncommitted changes of a worktree with their status codes, but the paths in `ignoring`. No
 * fsmonitor or hook runs: the settings reach the `git status` git runs in each checked-out
 * nested repository too, whose config an agent may have written.
 */
export async function uncommittedEntries(
  worktree: string,
  ignoring: readonly string[] = [],
): Promise<StatusEntry[]> {
  const out = await gitInShell(worktree, [
    ...NO_CODE_FROM_CONFIG,
    "status",
    "--porcelain=v1",
    "-z",
    "--untracked-files=all",
    "--",
    ".",
    ...ignoring.map((entry) => `:(exclude,literal)${entry}`),
  ]);
  return parseStatus(out).entries;
}

/**
 * Stages every change in the worktree except `exclude`d paths (copied files, `.context/`) and
 * returns the staged paths.
 */
async function stageWork(worktree: string, exclude: readonly string[]): Promise<string[]> {
  await git(worktree, ["add", "--all", "--", "."]);
  const staged = await stagedPaths(worktree);
  // Unstage what must stay out. (An exclude pathspec would make git refuse when a path is also
  // gitignored, which copied env files usually are.) Usually none of it was staged, and then
  // that costs no git process.
  const excludedPath = (file: string) => isKeptPath(file, exclude);
  if (!staged.some(excludedPath)) return staged;
  await git(worktree, ["reset", "--quiet", "--", ...exclude.map((entry) => `:(literal)${entry}`)]);
  return staged.filter((file) => !excludedPath(file));
}

/**
 * Keeps the worktree's uncommitted changes (but `exclude`d paths) as a commit on `ref`, without
 * touching the branch, HEAD or the user's stash; undefined when there is nothing to keep.
 */
export async function saveWork(
  worktree: string,
  options: { ref: string; message: string; exclude: readonly string[] },
): Promise<string | undefined> {
  if ((await stageWork(worktree, options.exclude)).length === 0) return undefined;
  const tree = (await git(worktree, ["write-tree"])).trim();
  const commit = (
    await git(worktree, [
      // author.* and committer.* come before user.* in any config (one a script wrote, say).
      ...["-c", `author.name=${NEUTRAL_IDENTITY.authorName}`],
      ...["-c", `author.email=${NEUTRAL_IDENTITY.authorEmail}`],
      ...["-c", `committer.name=${NEUTRAL_IDENTITY.committerName}`],
      ...["-c", `committer.email=${NEUTRAL_IDENTITY.committerEmail}`],
      "commit-tree",
      tree,
      "-p",
      "HEAD",
      "-m",
      options.message,
    ])
  ).trim();
  await git(worktree, ["update-ref", options.ref, commit]);
  return commit;
}

/** Paths whose staged content differs from HEAD; a rename counts as deletion plus addition. */
async function stagedPaths(worktree: string): Promise<string[]> {
  const out = await git(worktree, ["diff", "--cached", "--name-only", "--no-renames", "-z"]);
  return out.split("\0").filter((file) => file !== "");
}

/**
 * The repository's `info/exclude`. A main checkout whose `.git` is a folder (and not a linked
 * worktree's: no `commondir` in it) keeps it there, which is what git answers, without starting
 * git; a `.git` file (submodule, --separate-git-dir) is left to git.
 */
async function excludeFile(root: string): Promise<string> {
  const dotGit = path.join(root, ".git");
  const folder = await stat(dotGit).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (folder && !existsSync(path.join(dotGit, "commondir"))) {
    return path.join(dotGit, "info", "exclude");
  }
  return (
    await git(root, ["rev-parse", "--path-format=absolute", "--git-path", "info/exclude"])
  ).trim();
}

/** Comment line conductor writes above the patterns it adds to `info/exclude`. */
const EXCLUDE_MARK = "# added by conductor";

/**
 * Adds patterns to the repository's `info/exclude` (never the user's .gitignore), once each.
 * Lines in `replacing` that conductor itself wrote earlier (right under its comment) are replaced
 * by `patterns`: older versions excluded the whole `/.conductor/` folder, which also hid
 * the Conductor app's committed `.conductor/settings.toml`.
 */
export async function ensureExcluded(
  root: string,
  patterns: readonly string[],
  replacing: readonly string[] = [],
): Promise<void> {
  const file = await excludeFile(root);
  const current = existsSync(file) ? await readFile(file, "utf8") : "";
  const kept: string[] = [];
  let migrated = false;
  for (const line of current.split("\n")) {
    if (replacing.includes(line.trim()) && kept.at(-1)?.trim() === EXCLUDE_MARK) {
      kept.pop(); // its comment goes with it; the patterns are added below under a new one
      migrated = true;
    } else {
      kept.push(line);
    }
  }
  const present = new Set(kept.map((line) => line.trim()));
  const missing = patterns.filter((pattern) => !present.has(pattern));
  if (!migrated && missing.length === 0) return;
  let text = kept.join("\n");
  if (missing.length > 0) {
    const prefix = text === "" || text.endsWith("\n") ? "" : "\n";
    text = `${text}${prefix}${EXCLUDE_MARK}\n${missing.join("\n")}\n`;
  }
  await mkdir(path.dirname(file), { recursive: true });
  // Written whole and renamed into place: a reader never sees half a file.
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}
