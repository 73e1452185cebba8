import { type CollectOptions, runCollecting, runCollectingBytes } from "../process/collect.js";
import { ownEnvironment } from "../process/settled-environment.js";
import { runInShell } from "../process/shell-pool.js";

/**
 * Runs git straight from `node:child_process`. simple-git waited a fixed 50 ms after every
 * command that printed nothing (its completion plugin), which was most of conductor's cost per
 * workspace; this resolves the moment git exits.
 */

/** A git command that exited non-zero, was killed, or could not start. */
export class GitCommandError extends Error {
  constructor(
    /** The arguments git was given. */
    readonly args: readonly string[],
    /** Exit code; null when git was killed by a signal or never started. */
    readonly exitCode: number | null,
    message: string,
  ) {
    super(message);
    this.name = "GitCommandError";
  }
}

/**
 * Variables that would point git at another repository, work tree, index or object store than
 * the folder conductor names (set when conductor runs inside a git hook, for instance). Every
 * other variable (identity, GIT_CONFIG_*, GIT_TRACE, GIT_SSH…) reaches git as the user set it.
 */
const REDIRECTING = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
];

/** The environment for git: conductor's own, without the redirecting variables. */
function gitEnvironment(extra?: Readonly<Record<string, string>>): NodeJS.ProcessEnv | undefined {
  const own = ownEnvironment();
  // Nothing to take out or add: conductor's own, as is.
  if (extra === undefined && !REDIRECTING.some((name) => own[name] !== undefined)) return undefined;
  const environment = { ...own };
  for (const name of REDIRECTING) delete environment[name];
  return { ...environment, ...extra };
}

/** Options of a git command that needs more than arguments. */
export interface GitOptions {
  /** Extra environment (a temporary index, the author and committer of a replayed commit). */
  env?: Readonly<Record<string, string>>;
  /** Written to git's standard input. */
  input?: string;
}

/**
 * Runs `git <args>` in `cwd` and resolves with its stdout. Any non-zero exit is an error, also a
 * silent one (`--quiet` checks, `git merge` reporting a conflict on stdout): the error's message
 * is what git printed (stderr, then stdout), or its exit code when it printed nothing.
 */
export function runGit(
  cwd: string,
  args: readonly string[],
  options: GitOptions = {},
): Promise<string> {
  return run("git", args, cwd, args, undefined, options);
}

/**
 * {@link runGit} for output that may be too large to hold (a patch an agent made): the first
 * `maxBytes` of stdout, and whether there was more. Git is ended once it printed more, so a
 * stop then is no failure.
 */
export async function runGitHead(
  cwd: string,
  args: readonly string[],
  maxBytes: number,
): Promise<{ stdout: string; truncated: boolean }> {
  const result = await collectGit(
    (file, argv, options) => runCollecting(file, argv, { ...options, maxStdoutBytes: maxBytes }),
    "git",
    args,
    cwd,
    args,
    {},
  );
  if (result.truncated) return { stdout: result.stdout, truncated: true };
  if (result.code === 0) return { stdout: result.stdout, truncated: false };
  // Only git's own words: its stdout is file contents.
  throw failure(args, result.code, result.signal, result.stderr, "");
}

/** {@link runGit} with stdout as git printed it, in bytes: blobs need not be text. */
export async function runGitBytes(
  cwd: string,
  args: readonly string[],
  options: GitOptions = {},
): Promise<Buffer> {
  const result = await collectGit(runCollectingBytes, "git", args, cwd, args, options);
  if (result.code === 0) return result.stdout;
  // Only git's own words: its stdout is file contents, which may hold the very secrets sought.
  throw failure(args, result.code, result.signal, result.stderr, "");
}

/**
 * Runs a `/bin/sh` script of git commands in `cwd` (`$1`… are `args`, never part of the script's
 * text), under the same rules as {@link runGit}. It runs in a shell of conductor's pool
 * (`src/process/shell-pool.ts`), not in a process forked from Node: the scripts on the path of
 * every workspace cost conductor no fork at all.
 */
export function runGitScript(
  cwd: string,
  script: string,
  args: readonly string[],
): Promise<string> {
  return inShell(cwd, script, args, ["(script)", ...args]);
}

/**
 * Runs `git <args>` like {@link runGit}, in a shell of the pool: for the git commands every
 * workspace runs (`git worktree add`, its status before the commit), where a fork of Node would
 * cost more than git.
 */
export function runGitInShell(cwd: string, args: readonly string[]): Promise<string> {
  return inShell(cwd, 'exec git "$@"', args, args);
}

/**
 * Settings for conductor's own git in a place an agent could write to (its worktree, the main
 * checkout): no hook runs (`post-index-change` on every index write, hooks a relative
 * `core.hooksPath` finds in the worktree) and no `core.fsmonitor` program. Both run code, which
 * an agent could have planted; conductor's reading and committing needs neither.
 */
export const NO_CODE_FROM_CONFIG = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"];

/**
 * Config for {@link storedHistory}: no commit-graph file (whose parents git trusts over the
 * commits'), and no replace refs even where the repository's config asks for them (git 2.39 lets
 * `core.useReplaceRefs` beat `GIT_NO_REPLACE_OBJECTS`).
 */
const STORED_HISTORY_CONFIG: readonly (readonly [string, string])[] = [
  ["core.commitGraph", "false"],
  ["core.useReplaceRefs", "false"],
];

/**
 * The environment for reading the history as stored, for looking at what an agent committed: no
 * replacement objects (`refs/replace/`), no grafts (`info/grafts`), no commit-graph file, any of
 * which an agent could write to show a look other parents or contents than a push sends. With
 * `allCommits`, no `.git/shallow` either, for listing the commits of a range: a shallow line an
 * agent wrote for a commit of its branch hides that commit's parents (one holding a secret,
 * behind a merge). Shallow lines can only hide parents, never add any, so the checks of
 * ancestry keep them: in a shallow clone a walk below its boundary would find parents missing.
 * The config goes after any the user gave through `GIT_CONFIG_COUNT`.
 */
export function storedHistory(
  options: { allCommits?: boolean } = {},
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const given = Number(env.GIT_CONFIG_COUNT);
  const first = Number.isInteger(given) && given > 0 ? given : 0;
  const stored: Record<string, string> = {
    GIT_NO_REPLACE_OBJECTS: "1",
    GIT_GRAFT_FILE: "/dev/null",
    GIT_CONFIG_COUNT: String(first + STORED_HISTORY_CONFIG.length),
  };
  STORED_HISTORY_CONFIG.forEach(([key, value], index) => {
    stored[`GIT_CONFIG_KEY_${first + index}`] = key;
    stored[`GIT_CONFIG_VALUE_${first + index}`] = value;
  });
  // Git's own variable for another shallow file (its receive-pack sets it); empty: none.
  if (options.allCommits) stored.GIT_SHALLOW_FILE = "/dev/null";
  return stored;
}

/** A shell function for conductor's git scripts: `git` with {@link NO_CODE_FROM_CONFIG}. */
export const PLAIN_GIT_SH = `git() { command git ${NO_CODE_FROM_CONFIG.join(" ")} "$@"; }
`;

/** {@link runGitInShell} with {@link NO_CODE_FROM_CONFIG}: git in an agent's worktree. */
export function runPlainGitInShell(cwd: string, args: readonly string[]): Promise<string> {
  return inShell(cwd, `exec git ${NO_CODE_FROM_CONFIG.join(" ")} "$@"`, args, args);
}

async function inShell(
  cwd: string,
  script: string,
  argv: readonly string[],
  args: readonly string[],
): Promise<string> {
  let result: Awaited<ReturnType<typeof runInShell>>;
  try {
    result = await runInShell(cwd, script, argv, gitEnvironment());
  } catch (error) {
    throw new GitCommandError(args, null, `could not run git: ${(error as Error).message}`);
  }
  if (result.exitCode === 0) return result.stdout;
  throw failure(args, result.exitCode, null, result.stderr, result.stdout);
}

/** The error of a git that failed: what it printed (stderr, then stdout), or how it ended. */
function failure(
  args: readonly string[],
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
  stdout: string,
): GitCommandError {
  const printed = `${stderr}${stdout}`.trim();
  const fallback = signal === null ? `git exited with code ${code}` : `git was killed by ${signal}`;
  return new GitCommandError(args, code, printed === "" ? fallback : printed);
}

/**
 * Runs `git <args>` like {@link runGit}, but the exit codes in `expected` are answers, not
 * errors (`git merge-tree` exits 1 for a conflicted merge): resolves with the code and stdout.
 */
export async function runGitExpecting(
  cwd: string,
  args: readonly string[],
  expected: readonly number[],
  options: GitOptions = {},
): Promise<{ exitCode: number; stdout: string }> {
  let exitCode = 0;
  const accepts = (code: number) => {
    exitCode = code;
    return expected.includes(code);
  };
  const stdout = await run("git", args, cwd, args, accepts, options);
  return { exitCode, stdout };
}

async function run(
  file: string,
  argv: readonly string[],
  cwd: string,
  args: readonly string[],
  accepts: (code: number) => boolean = (code) => code === 0,
  options: GitOptions = {},
): Promise<string> {
  const result = await collectGit(runCollecting, file, argv, cwd, args, options);
  if (result.code !== null && accepts(result.code)) return result.stdout;
  throw failure(args, result.code, result.signal, result.stderr, result.stdout);
}

/**
 * Runs `file` through `collect` in git's environment, `options.input` on its stdin: one that could
 * not start at all fails as a {@link GitCommandError} of `args`.
 */
async function collectGit<T>(
  collect: (file: string, argv: readonly string[], options: CollectOptions) => Promise<T>,
  file: string,
  argv: readonly string[],
  cwd: string,
  args: readonly string[],
  options: GitOptions,
): Promise<T> {
  try {
    return await collect(file, argv, {
      cwd,
      env: gitEnvironment(options.env),
      ...(options.input === undefined ? {} : { input: options.input }),
    });
  } catch (error) {
    throw new GitCommandError(args, null, `could not run git: ${(error as Error).message}`);
  }
}
