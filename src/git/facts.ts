import os from "node:os";
import path from "node:path";
import { RepositoryError } from "../errors.js";
import { gitCommand } from "../hint/command.js";
import type { RepoFacts } from "../planner/types.js";
import { runGit, runGitInShell, runGitScript } from "./run-git.js";

/**
 * The main checkout that `cwd` belongs to. From inside a linked worktree (a workspace) this is
 * still the main checkout, so conductor commands work from anywhere in the repository.
 */
export async function findRepositoryRoot(cwd: string): Promise<string> {
  const git = (args: readonly string[]) => runGit(cwd, args);
  let commonDir: string;
  let gitDir: string;
  try {
    // In a shell of the pool: the questions that follow (askRepoDefaults) run in the same shell
    // without another fork of Node, which this one would cost at the busiest moment of start-up.
    const out = await runGitInShell(cwd, [
      "rev-parse",
      "--path-format=absolute",
      "--git-common-dir",
      "--git-dir",
    ]);
    [commonDir = "", gitDir = ""] = out.trim().split("\n");
  } catch {
    throw new RepositoryError(`${cwd} is not inside a git repository`, {
      hint: "Run conductor inside the repository whose tasks it should work on (or git init one).",
    });
  }
  if (path.basename(commonDir) === ".git") return path.dirname(commonDir);
  // A submodule keeps its git directory under the superproject's .git/modules/ and names its
  // checkout in core.worktree; a --separate-git-dir checkout only knows itself from inside.
  const worktree = (await git(["config", "--path", "core.worktree"]).catch(() => "")).trim();
  if (worktree !== "") return path.resolve(commonDir, worktree);
  const bare = (await git(["rev-parse", "--is-bare-repository"]).catch(() => "")).trim();
  if (bare === "false" && gitDir === commonDir) {
    return (await git(["rev-parse", "--show-toplevel"])).trim();
  }
  throw new RepositoryError(
    bare === "true"
      ? `${commonDir} is a bare repository; conductor needs a checkout`
      : `cannot tell where the main checkout of ${commonDir} is`,
    { hint: "Run conductor in the repository's main checkout." },
  );
}

/** The repository's common git folder (the main checkout's `.git`, shared by its worktrees). */
export async function commonGitDir(cwd: string): Promise<string> {
  return (await runGit(cwd, ["rev-parse", "--path-format=absolute", "--git-common-dir"])).trim();
}

/** Resolves `ref` to a commit SHA, or undefined when it names nothing. */
export async function resolveCommit(root: string, ref: string): Promise<string | undefined> {
  // rev-parse --verify --quiet prints nothing and exits 1 for an unknown ref.
  const out = await runGit(root, [
    "rev-parse",
    "--verify",
    "--quiet",
    "--end-of-options",
    `${ref}^{commit}`,
  ]).catch(() => "");
  return commitId(out);
}

/** A full commit id, or undefined for anything else (git printed nothing: no such ref). */
function commitId(text: string): string | undefined {
  const sha = text.trim();
  return /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
}

/**
 * Three questions in one shell, one line per answer (empty where git has none): origin/HEAD's
 * branch, main's commit, HEAD's commit. One process from Node instead of three: every process
 * Node starts costs its main thread a fork, at the moment start-up is busiest.
 */
const DEFAULTS_SCRIPT = [
  "git symbolic-ref --quiet --short refs/remotes/origin/HEAD",
  "git rev-parse --verify --quiet --end-of-options 'refs/heads/main^{commit}'",
  "git rev-parse --verify --quiet --end-of-options 'HEAD^{commit}'",
]
  .map((command) => `printf '%s\\n' "$(${command} 2>/dev/null)"`)
  .join("\n");

/**
 * The repository's default branch: what origin/HEAD points at, else `main` or `master` when they
 * exist, else the branch checked out in the main checkout. With its commit when finding the
 * branch already resolved it.
 */
async function findDefaultBranch(
  root: string,
  remoteHead: string,
  main: string | undefined,
): Promise<{ name: string; commit?: string }> {
  if (remoteHead.startsWith("origin/")) return { name: remoteHead.slice("origin/".length) };
  if (main) return { name: "main", commit: main };
  const master = await resolveCommit(root, "refs/heads/master");
  if (master) return { name: "master", commit: master };
  const current = (
    await runGit(root, ["symbolic-ref", "--quiet", "--short", "HEAD"]).catch(() => "")
  ).trim();
  return { name: current === "" ? "main" : current };
}

/** What a repository says without a config: its default branch and the commit HEAD is at. */
export interface RepoDefaults {
  found: { name: string; commit?: string };
  head: string | undefined;
}

/**
 * Asks git for the {@link RepoDefaults}; started before the config is read, so that git answers
 * while the config is parsed. Never rejects (every question falls back to "not there").
 */
export async function askRepoDefaults(root: string): Promise<RepoDefaults> {
  const out = await runGitScript(root, DEFAULTS_SCRIPT, []).catch(() => "");
  const [remoteHead = "", main = "", head = ""] = out.split("\n");
  return {
    found: await findDefaultBranch(root, remoteHead.trim(), commitId(main)),
    head: commitId(head),
  };
}

/**
 * Gathers what the planner needs to know about the repository; fails clearly when it cannot be
 * used. `defaults` is {@link askRepoDefaults} of the same root when already asked.
 */
export async function gatherRepoFacts(
  root: string,
  base: string | undefined,
  defaults: Promise<RepoDefaults> = askRepoDefaults(root),
): Promise<RepoFacts> {
  // Independent questions to git go out together: start-up waits for the slowest, not the sum.
  const [{ found, head }, givenBase] = await Promise.all([
    defaults,
    base === undefined ? undefined : resolveCommit(root, base),
  ]);
  const defaultRef = found.name;
  const baseRef = base ?? defaultRef;
  const baseCommit =
    base !== undefined
      ? givenBase
      : found.commit !== undefined
        ? found.commit
        : await resolveCommit(root, baseRef);
  if (head === undefined) {
    const defaultCommit =
      baseRef === defaultRef ? baseCommit : await resolveCommit(root, defaultRef);
    if (defaultCommit === undefined) {
      throw new RepositoryError(`the repository at ${root} has no commits yet`, {
        hint: `Commit something first (${gitCommand(root, ["commit", "--allow-empty", "-m", "init"])}): workspaces branch off a commit.`,
      });
    }
  }
  if (baseCommit === undefined) {
    // A CI checkout (actions/checkout) holds one commit of one ref, and no default branch: the
    // fix there is to fetch it, as docs/ci.md says, not to point base: elsewhere.
    const origin =
      base === undefined &&
      (await runGit(root, ["remote"]).catch(() => "")).split("\n").includes("origin");
    throw new RepositoryError(`the base ref "${baseRef}" does not exist in ${root}`, {
      hint: origin
        ? `Fetch it with \`${gitCommand(root, ["fetch", "origin", `${baseRef}:${baseRef}`])}\` (in GitHub Actions, actions/checkout with fetch-depth: 0), or set base: in conductor.yaml to a branch or commit that exists.`
        : base === undefined
          ? "Set base: in conductor.yaml to a branch or commit that exists."
          : "Fix base: in conductor.yaml, or fetch the ref (git fetch origin <ref>).",
    });
  }
  return {
    root,
    name: path.basename(root),
    defaultBranch: defaultRef,
    baseRef,
    baseCommit,
    homeDir: os.homedir(),
  };
}
