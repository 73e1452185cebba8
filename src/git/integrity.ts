import { lstat } from "node:fs/promises";
import path from "node:path";
import { blobSizes } from "./committed-blobs.js";
import { BRANCH_OF_SH } from "./head-file.js";
import {
  NO_CODE_FROM_CONFIG,
  runGit,
  runGitExpecting,
  runGitScript,
  storedHistory,
} from "./run-git.js";
import { parseStatus } from "./status-entries.js";

/**
 * The git facts conductor checks after an agent step, read the way git's own tools read them:
 * one `for-each-ref` for every ref, one `status` of the main checkout, a worktree's HEAD (from
 * its file, or a `rev-parse`), all in one process from Node ({@link snapshotRepository}).
 * Deciding what they mean is the executor's job (`verify-agent-result.ts`).
 */

/** Value of one ref: the object it points to and, for a symbolic ref, what it points through. */
export interface RefValue {
  oid: string;
  /** Target of a symbolic ref (`refs/remotes/origin/HEAD`); "" for an ordinary ref. */
  symref: string;
}

/** Every ref of a repository by full name. */
export type RefSnapshot = ReadonlyMap<string, RefValue>;

/**
 * Every ref of the repository (branches, tags, remote-tracking refs, conductor's own), or those
 * `patterns` match (git's: a full name matches itself and the refs below it).
 */
export async function snapshotRefs(
  root: string,
  patterns: readonly string[] = [],
): Promise<RefSnapshot> {
  return parseRefs(await runGit(root, ["for-each-ref", REFS_FORMAT, ...patterns]));
}

const REFS_FORMAT = "--format=%(refname)%00%(objectname)%00%(symref)";

function parseRefs(stdout: string): RefSnapshot {
  const refs = new Map<string, RefValue>();
  for (const line of stdout.split("\n")) {
    const [name, oid, symref = ""] = line.split("\0");
    if (name && oid) refs.set(name, { oid, symref });
  }
  return refs;
}

/** A ref whose value differs between two snapshots; `before`/`after` absent when it did not exist. */
export interface RefChange {
  ref: string;
  before: string | undefined;
  after: string | undefined;
  symbolic: boolean;
}

/** Refs created, moved or deleted between two snapshots. */
export function changedRefs(before: RefSnapshot, after: RefSnapshot): RefChange[] {
  const changes: RefChange[] = [];
  for (const [ref, value] of before) {
    const now = after.get(ref);
    if (now?.oid !== value.oid)
      changes.push({ ref, before: value.oid, after: now?.oid, symbolic: value.symref !== "" });
  }
  for (const [ref, value] of after) {
    if (!before.has(ref))
      changes.push({ ref, before: undefined, after: value.oid, symbolic: value.symref !== "" });
  }
  return changes;
}

/**
 * What the main checkout looks like to `git status`: its branch line and, per listed path, the
 * status code plus the file's size and modification time (so a further write to an already
 * modified file counts as a change too).
 */
export type CheckoutFingerprint = ReadonlyMap<string, string>;

/**
 * Fingerprint of a checkout's status, leaving out `excluding` (folders inside it that conductor
 * itself fills, such as a workspaces folder placed in the repository). Takes no lock: the user may
 * be running git in that checkout.
 */
export async function checkoutFingerprint(
  root: string,
  excluding: readonly string[] = [],
): Promise<CheckoutFingerprint> {
  const stdout = await runGit(root, [...CHECKOUT_STATUS, ...checkoutPathspecs(excluding)]);
  return fingerprintOf(root, stdout);
}

/** `git status` of the main checkout, without a lock: the user may be running git there. */
const CHECKOUT_STATUS = [
  ...NO_CODE_FROM_CONFIG,
  "--no-optional-locks",
  "status",
  "--porcelain=v1",
  "--branch",
  "-z",
  "--untracked-files=normal",
];

function checkoutPathspecs(excluding: readonly string[]): string[] {
  return ["--", ".", ...excluding.map((entry) => `:(exclude,literal)${entry}`)];
}

async function fingerprintOf(root: string, stdout: string): Promise<CheckoutFingerprint> {
  const fingerprint = new Map<string, string>();
  const { branch, entries } = parseStatus(stdout);
  if (branch !== undefined) fingerprint.set("(HEAD)", branch);
  for (const { code, path: file } of entries) {
    const stat = await lstat(path.join(root, file)).then(
      (info) => `${info.size}:${info.mtimeMs}`,
      () => "gone",
    );
    fingerprint.set(file, `${code} ${stat}`);
  }
  return fingerprint;
}

/** Paths whose status differs between two fingerprints ("(HEAD)" when the checkout's branch did). */
export function changedPaths(before: CheckoutFingerprint, after: CheckoutFingerprint): string[] {
  const changed = new Set<string>();
  for (const [file, value] of before) if (after.get(file) !== value) changed.add(file);
  for (const [file, value] of after) if (before.get(file) !== value) changed.add(file);
  return [...changed].sort();
}

/** Where a worktree's HEAD is: its commit, and the branch it is on (undefined when detached). */
export interface WorktreeHead {
  commit: string;
  ref: string | undefined;
}

/** The worktree's HEAD commit and the ref HEAD is attached to. */
export async function worktreeHead(worktree: string): Promise<WorktreeHead> {
  return parseHead(await runGit(worktree, HEAD_ARGS));
}

const HEAD_ARGS = ["rev-parse", "HEAD", "--symbolic-full-name", "HEAD"];

function parseHead(stdout: string): WorktreeHead {
  // Not trimmed as a whole: the first line may be empty (the commit left to the refs).
  const [commit = "", ref = "HEAD"] = stdout.split("\n").map((line) => line.trim());
  return { commit, ref: ref === "HEAD" || ref === "" ? undefined : ref };
}

/** What {@link snapshotRepository} read; the worktree's facts only when one was named. */
export interface RepositorySnapshot {
  refs: RefSnapshot;
  checkout: CheckoutFingerprint;
  worktree?: { head: WorktreeHead };
}

/**
 * Every ref, the main checkout's status and, with a worktree named ($1, "" for none), its HEAD:
 * one process from Node instead of three (each spawn forks the whole Node process). Ref names
 * hold no control characters, so \x01 ends the refs; HEAD takes two lines: its commit and its
 * ref from a rev-parse, or, when its file shows it on a branch, an empty line (the commit is the
 * branch's, among the refs just listed) and the branch; the rest is the main checkout's status.
 * Pathspecs of that status follow $1.
 */
const SNAPSHOT_SCRIPT = `set -e
${BRANCH_OF_SH}worktree=$1
shift
git for-each-ref '${REFS_FORMAT}'
printf '\\001'
if [ -n "$worktree" ]; then
  branch_of "$worktree"
  if [ -n "$branch_of" ]; then
    printf '\\n%s\\n' "$branch_of"
  else
    git -C "$worktree" ${HEAD_ARGS.join(" ")}
  fi
fi
git ${CHECKOUT_STATUS.join(" ")} "$@"
`;

/** Reads {@link RepositorySnapshot} in one process (the repository at `root`, `worktree` if given). */
export async function snapshotRepository(
  root: string,
  options: { excluding: readonly string[]; worktree?: string },
): Promise<RepositorySnapshot> {
  const stdout = await runGitScript(root, SNAPSHOT_SCRIPT, [
    options.worktree ?? "",
    ...checkoutPathspecs(options.excluding),
  ]);
  const refsEnd = stdout.indexOf("\x01");
  if (refsEnd === -1) throw new Error("unexpected output of the repository snapshot");
  const refs = parseRefs(stdout.slice(0, refsEnd));
  let checkout = stdout.slice(refsEnd + 1);
  let worktree: RepositorySnapshot["worktree"];
  if (options.worktree !== undefined) {
    const second = checkout.indexOf("\n", checkout.indexOf("\n") + 1);
    if (second === -1) throw new Error("unexpected output of the repository snapshot");
    const read = parseHead(checkout.slice(0, second + 1));
    worktree = { head: await headCommit(options.worktree, refs, read) };
    checkout = checkout.slice(second + 1);
  }
  return { refs, checkout: await fingerprintOf(root, checkout), ...(worktree ? { worktree } : {}) };
}

/** `head` with its commit filled in from `refs` (or, if the branch has none, from git). */
async function headCommit(
  worktree: string,
  refs: RefSnapshot,
  head: WorktreeHead,
): Promise<WorktreeHead> {
  if (head.commit !== "") return head;
  const commit = head.ref === undefined ? undefined : refs.get(head.ref)?.oid;
  return commit === undefined ? worktreeHead(worktree) : { commit, ref: head.ref };
}

/**
 * Whether `ancestor` is `descendant` or one of its ancestors, in the history as stored (what a
 * push sends): a replace ref or graft an agent wrote must not make a rewritten branch look as if
 * it still held its work. Git exits 1 for "no"; any other failure (an unknown commit, a broken
 * repository) is thrown, never read as "no".
 */
export async function isAncestor(
  cwd: string,
  ancestor: string,
  descendant: string,
): Promise<boolean> {
  if (ancestor === descendant) return true;
  const { exitCode } = await runGitExpecting(
    cwd,
    ["merge-base", "--is-ancestor", ancestor, descendant],
    [0, 1],
    { env: storedHistory() },
  );
  return exitCode === 0;
}

/** Moves (or creates, or deletes) `ref` only if it still has the value `expected` (compare-and-swap). */
export async function updateRef(
  cwd: string,
  ref: string,
  value: string | undefined,
  expected: string | undefined,
  reason: string,
): Promise<void> {
  const args =
    value === undefined
      ? ["update-ref", "-m", reason, "-d", ref, expected ?? ""]
      : ["update-ref", "-m", reason, ref, value, expected ?? ""];
  await runGit(cwd, args);
}

/** Points the worktree's HEAD at `ref` without touching its index or files. */
export async function attachHead(worktree: string, ref: string): Promise<void> {
  await runGit(worktree, [
    "symbolic-ref",
    "-m",
    "conductor: back on the workspace branch",
    "HEAD",
    ref,
  ]);
}

/** Pathspecs that match exactly these paths (and everything under those that are folders). */
export function literalPathspecs(paths: readonly string[]): string[] {
  return paths.map((entry) => `:(literal)${entry}`);
}

/** Paths under `paths` that commits in `from..to` added, changed or deleted, as stored. */
export async function pathsTouched(
  cwd: string,
  from: string,
  to: string,
  paths: readonly string[],
): Promise<string[]> {
  if (paths.length === 0) return [];
  const stdout = await runGit(
    cwd,
    [
      "log",
      "--format=",
      "--name-only",
      "--no-renames",
      "--full-history",
      "-z",
      `${from}..${to}`,
      "--",
      ...literalPathspecs(paths),
    ],
    { env: storedHistory({ allCommits: true }) },
  );
  return [...new Set(stdout.split(/[\0\n]/).filter(Boolean))].sort();
}

/** Resets the index entries of `paths` to HEAD's, leaving the files in the worktree as they are. */
export async function unstagePaths(worktree: string, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  await runGit(worktree, ["reset", "-q", "--", ...literalPathspecs(paths)]);
}

/** A file of a commit, with its size. */
export interface CommittedFile {
  file: string;
  bytes: number;
}

/**
 * Files that commits of `from..to` added or changed whose content is larger than `limit` bytes:
 * what an agent committed by itself without passing the commit step's size limit. Two git
 * processes, however many commits.
 */
export async function filesLargerThan(
  cwd: string,
  from: string,
  to: string,
  limit: number,
): Promise<CommittedFile[]> {
  const listed = await runGit(cwd, ["rev-list", "--objects", `${from}..${to}`], {
    env: storedHistory({ allCommits: true }),
  });
  // Lines are `<object>` for commits and `<object> <path>` for trees and blobs.
  const paths = new Map<string, string>();
  for (const line of listed.split("\n")) {
    const space = line.indexOf(" ");
    if (space > 0) paths.set(line.slice(0, space), line.slice(space + 1));
  }
  const sizes = await blobSizes(cwd, [...paths.keys()]);
  const large: CommittedFile[] = [];
  for (const [object, bytes] of sizes) {
    const file = paths.get(object);
    if (file !== undefined && bytes > limit) large.push({ file, bytes });
  }
  return large.sort((a, b) => a.file.localeCompare(b.file));
}
