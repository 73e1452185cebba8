import { existsSync } from "node:fs";
import path from "node:path";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { guardWorktreeLink, worktreeOf } from "../executor/worktree-link-check.js";
import { runGit, runGitExpecting } from "../git/run-git.js";
import { branchExists, git, uncommittedEntries } from "../git/worktree.js";

/** Work that removing a workspace would destroy. */
export interface Losses {
  /**
   * Uncommitted paths in the worktree. Copied files and what conductor placed or the agent wrote
   * in an untracked `.context/` do not count; edits to files of a tracked `.context/` do.
   */
  uncommitted: string[];
  /** Commits of the branch reachable from neither the base nor any remote-tracking branch. */
  unmergedCommits: number;
  /** Commits of a detached HEAD that no ref holds (they live only in the worktree's HEAD). */
  detachedHead: { commit: string; commits: number } | undefined;
  /**
   * Nested repositories in the worktree with commits found in none of their remotes, or, when
   * the branch does not track them, with no commit at all (`git init` alone): git can keep
   * neither on a ref.
   */
  nestedRepositories: NestedRepositoryLoss[];
}

/** A nested repository whose work lives only in the worktree. */
export interface NestedRepositoryLoss {
  /** Its folder, relative to the worktree. */
  path: string;
  /** Commits of its HEAD and branches that none of its remote-tracking refs hold. */
  commits: number;
  /** It has no commit yet: its files are in no commit git could keep. */
  noCommit: boolean;
}

/** Nothing lost. */
export const NO_LOSSES: Losses = {
  uncommitted: [],
  unmergedCommits: 0,
  detachedHead: undefined,
  nestedRepositories: [],
};

/** Files named in a refusal before the list is cut short. */
const LISTED_FILES = 10;

/**
 * What archiving (or cleaning) a workspace would lose: its uncommitted changes when its worktree
 * is there (its link to the repository put back first, see {@link guardWorktreeLink}), and with
 * `deleteBranch` the commits that exist only on its branch.
 */
export async function whatWouldBeLost(
  found: FoundWorkspace,
  options: { worktreePresent: boolean; deleteBranch: boolean },
): Promise<Losses> {
  const { workspace, state } = found;
  const unmergedCommits = options.deleteBranch ? await commitsOnlyOnBranch(found) : 0;
  if (!options.worktreePresent) return { ...NO_LOSSES, unmergedCommits };
  await guardWorktreeLink(worktreeOf(found));
  const [uncommitted, detachedHead, nestedRepositories] = await Promise.all([
    uncommittedWork(workspace.path, [...state.copied, ...(state.seed?.folders ?? [])]),
    unreachableHead(workspace.path),
    nestedRepositoryLosses(workspace.path),
  ]);
  return { uncommitted, unmergedCommits, detachedHead, nestedRepositories };
}

/** Whether anything would be lost. */
export function losesWork(losses: Losses): boolean {
  return (
    losses.uncommitted.length > 0 ||
    losses.unmergedCommits > 0 ||
    losses.detachedHead !== undefined ||
    losses.nestedRepositories.length > 0
  );
}

/**
 * Uncommitted paths of the worktree but what conductor put there: copied env files, context files
 * and seeded folders (a symlink one shows as untracked even where `node_modules/` is ignored)
 * came from the main checkout or the cache, and untracked files under `.context/` are scratch. A tracked
 * `.context/` file that was edited or deleted is work (conductor never commits `.context/`).
 */
async function uncommittedWork(worktree: string, placed: readonly string[]): Promise<string[]> {
  return (await uncommittedEntries(worktree, placed))
    .filter((entry) => !(entry.code === "??" && entry.path.startsWith(".context/")))
    .map((entry) => entry.path);
}

/** A detached HEAD with commits no ref holds: its commit and how many such commits. */
async function unreachableHead(
  worktree: string,
): Promise<{ commit: string; commits: number } | undefined> {
  const attached = await runGitExpecting(worktree, ["symbolic-ref", "-q", "HEAD"], [0, 1]);
  if (attached.exitCode === 0) return undefined;
  const head = (await runGit(worktree, ["rev-parse", "HEAD"])).trim();
  // Every ref, but not HEAD itself (`--all` would count the HEADs of worktrees too).
  const stdout = await runGit(worktree, ["rev-list", "--count", head, "--not", "--glob=refs/*"]);
  const commits = Number(stdout.trim()) || 0;
  return commits > 0 ? { commit: head, commits } : undefined;
}

/**
 * Nested repositories inside the worktree whose work removing it would destroy: those it records
 * as gitlinks and untracked folders that are repositories of their own (an agent's `git init`
 * or `git clone`), with the commits of their HEAD and branches that none of their
 * remote-tracking refs hold; an untracked one without a commit counts too (its files are in no
 * commit, and git refuses to stage it).
 */
async function nestedRepositoryLosses(worktree: string): Promise<NestedRepositoryLoss[]> {
  const [staged, others] = await Promise.all([
    runGit(worktree, ["ls-files", "--stage", "-z"]),
    runGit(worktree, ["ls-files", "--others", "--exclude-standard", "--directory", "-z"]),
  ]);
  const gitlinks = staged
    .split("\0")
    .filter((entry) => entry.startsWith("160000 "))
    .map((entry) => {
      const [meta = "", file = ""] = entry.split("\t");
      return { file, commit: meta.split(" ")[1] ?? "", tracked: true };
    });
  // An untracked repository shows as its folder, with git's trailing slash.
  const untracked = others
    .split("\0")
    .filter((entry) => entry.endsWith("/") && existsSync(path.join(worktree, entry, ".git")))
    .map((entry) => ({ file: entry.slice(0, -1), commit: "", tracked: false }));
  const losses: NestedRepositoryLoss[] = [];
  for (const link of [...gitlinks, ...untracked]) {
    const nested = path.join(worktree, link.file);
    const inside = await runGitExpecting(nested, ["rev-parse", "--show-toplevel"], [0, 128]).catch(
      () => undefined,
    );
    if (inside?.exitCode !== 0 || path.resolve(inside.stdout.trim()) !== path.resolve(nested))
      continue; // not checked out: nothing of it lives in the worktree
    const counted = await runGit(nested, [
      "rev-list",
      "--count",
      "--ignore-missing",
      "HEAD",
      "--branches",
      ...(link.commit === "" ? [] : [link.commit]),
      "--not",
      "--remotes",
    ]);
    const commits = Number(counted.trim()) || 0;
    const noCommit =
      !link.tracked &&
      commits === 0 &&
      (await runGitExpecting(nested, ["rev-parse", "--verify", "-q", "HEAD"], [0, 1])).exitCode !==
        0;
    if (commits > 0 || noCommit) losses.push({ path: link.file, commits, noCommit });
  }
  return losses;
}

/** `3 uncommitted files: a, b, c` and `2 commits not on main or any remote`, as lines. */
export function describeLosses(found: FoundWorkspace, losses: Losses): string[] {
  const lines: string[] = [];
  const { uncommitted, unmergedCommits, detachedHead, nestedRepositories } = losses;
  if (uncommitted.length > 0) {
    const shown = uncommitted.slice(0, LISTED_FILES).join(", ");
    const more =
      uncommitted.length > LISTED_FILES ? `, … (${uncommitted.length - LISTED_FILES} more)` : "";
    lines.push(
      `${uncommitted.length} uncommitted file${uncommitted.length === 1 ? "" : "s"}: ${shown}${more}`,
    );
  }
  if (detachedHead !== undefined) {
    lines.push(
      `detached HEAD at ${detachedHead.commit.slice(0, 10)}: ${plural(detachedHead.commits, "commit")} no branch holds (keep them with \`git -C ${found.workspace.path} branch <name>\`)`,
    );
  }
  for (const nested of nestedRepositories) {
    lines.push(
      nested.noCommit
        ? `nested repository ${nested.path}: no commit yet, its files exist only inside the worktree`
        : `nested repository ${nested.path}: ${plural(nested.commits, "commit")} that exist only inside the worktree`,
    );
  }
  if (unmergedCommits > 0) {
    lines.push(
      `${unmergedCommits} commit${unmergedCommits === 1 ? "" : "s"} not on ${found.run.plan.base.ref} or any remote (branch ${found.workspace.branch})`,
    );
  }
  return lines;
}

/**
 * Commits of the workspace's branch that no other safe place has: not reachable from the base
 * commit, the base and default branches as they are now (the work may have been merged since),
 * or any remote-tracking branch.
 */
async function commitsOnlyOnBranch(found: FoundWorkspace): Promise<number> {
  const { plan } = found.run;
  const root = plan.repo.root;
  if (!(await branchExists(root, found.workspace.branch))) return 0;
  const safe = [plan.base.commit];
  for (const branch of new Set([plan.base.ref, plan.repo.defaultBranch])) {
    if (await branchExists(root, branch)) safe.push(`refs/heads/${branch}`);
  }
  const out = await git(root, [
    "rev-list",
    "--count",
    `refs/heads/${found.workspace.branch}`,
    "--not",
    ...safe,
    "--remotes",
  ]);
  return Number(out.trim()) || 0;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
