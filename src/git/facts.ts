import os from "node:os";
import path from "node:path";
import { RepositoryError } from "../errors.js";
import type { RepoFacts } from "../planner/types.js";
import { gitClient } from "./client.js";

/**
 * The main checkout that `cwd` belongs to. From inside a linked worktree (a workspace) this is
 * still the main checkout, so conductor commands work from anywhere in the repository.
 */
export async function findRepositoryRoot(cwd: string): Promise<string> {
  const git = gitClient(cwd);
  let commonDir: string;
  let gitDir: string;
  try {
    const out = await git.raw([
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
  const worktree = (await git.raw(["config", "--path", "core.worktree"]).catch(() => "")).trim();
  if (worktree !== "") return path.resolve(commonDir, worktree);
  const bare = (await git.raw(["rev-parse", "--is-bare-repository"]).catch(() => "")).trim();
  if (bare === "false" && gitDir === commonDir) {
    return (await git.raw(["rev-parse", "--show-toplevel"])).trim();
  }
  throw new RepositoryError(
    bare === "true"
      ? `${commonDir} is a bare repository; conductor needs a checkout`
      : `cannot tell where the main checkout of ${commonDir} is`,
    { hint: "Run conductor in the repository's main checkout." },
  );
}

/** Resolves `ref` to a commit SHA, or undefined when it names nothing. */
export async function resolveCommit(root: string, ref: string): Promise<string | undefined> {
  // rev-parse --verify --quiet prints nothing and exits 1 for an unknown ref; simple-git does not
  // throw on an empty stderr, so an empty answer means "no such ref".
  const out = await gitClient(root)
    .raw(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`])
    .catch(() => "");
  const sha = out.trim();
  return /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
}

/**
 * The repository's default branch: what origin/HEAD points at, else `main` or `master` when they
 * exist, else the branch checked out in the main checkout.
 */
export async function defaultBranch(root: string): Promise<string> {
  const git = gitClient(root);
  const remoteHead = (
    await git
      .raw(["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"])
      .catch(() => "")
  ).trim();
  if (remoteHead.startsWith("origin/")) return remoteHead.slice("origin/".length);
  for (const candidate of ["main", "master"]) {
    const exists = await git
      .raw(["show-ref", "--verify", "--quiet", `refs/heads/${candidate}`])
      .then(
        () => true,
        () => false,
      );
    if (exists && (await resolveCommit(root, `refs/heads/${candidate}`))) return candidate;
  }
  const current = (
    await git.raw(["symbolic-ref", "--quiet", "--short", "HEAD"]).catch(() => "")
  ).trim();
  return current === "" ? "main" : current;
}

/** Gathers what the planner needs to know about the repository; fails clearly when it cannot be used. */
export async function gatherRepoFacts(root: string, base: string | undefined): Promise<RepoFacts> {
  const defaultRef = await defaultBranch(root);
  const head = await resolveCommit(root, "HEAD");
  if (head === undefined && (await resolveCommit(root, defaultRef)) === undefined) {
    throw new RepositoryError(`the repository at ${root} has no commits yet`, {
      hint: "Commit something first (git commit --allow-empty -m init): workspaces branch off a commit.",
    });
  }
  const baseRef = base ?? defaultRef;
  const baseCommit = await resolveCommit(root, baseRef);
  if (baseCommit === undefined) {
    throw new RepositoryError(`the base ref "${baseRef}" does not exist in ${root}`, {
      hint:
        base === undefined
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
