import path from "node:path";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { guardWorktreeLink, worktreeOf } from "../executor/worktree-link-check.js";
import { commonGitDir } from "../git/facts.js";
import { runGit, runGitExpecting } from "../git/run-git.js";
import type { StatusEntry } from "../git/status-entries.js";
import { branchExists, git, samePath, uncommittedEntries } from "../git/worktree.js";
import { shellQuote } from "../hint/shell-quote.js";
import { scriptRedactor } from "./workspace-process.js";

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

/** A nested repository whose work lives only in the worktree (`path`), and why it cannot be kept. */
export type NestedRepositoryLoss =
  /** Commits of its HEAD and branches that none of its remote-tracking refs hold. */
  | { path: string; kind: "commits"; commits: number }
  /** An untracked one without any commit: its files are in no commit git could keep. */
  | { path: string; kind: "no-commit" }
  /** Git could not read its history (a missing object): what only it holds cannot be told. */
  | { path: string; kind: "unreadable"; message: string };

/** What a nested repository holds that would be lost, after "nested repository <path> has". */
export function nestedLoss(nested: NestedRepositoryLoss): string {
  switch (nested.kind) {
    case "commits":
      return `${plural(nested.commits, "commit")} in none of its remotes`;
    case "no-commit":
      return "no commit, so git cannot keep its files on a ref";
    case "unreadable":
      return `history git cannot read (${nested.message}), so what only it holds cannot be told`;
  }
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
  const [entries, detachedHead] = await Promise.all([
    uncommittedEntries(workspace.path, [...state.copied, ...(state.seed?.folders ?? [])]),
    unreachableHead(workspace.path),
  ]);
  // With every untracked file listed, a folder shows as one entry only when it is a repository.
  const untrackedFolders = entries
    .filter((entry) => entry.code === "??" && entry.path.endsWith("/"))
    .map((entry) => entry.path.slice(0, -1));
  const nestedRepositories = await nestedRepositoryLosses(workspace.path, untrackedFolders);
  // A nested repository is told of once, as such.
  const uncommitted = uncommittedWork(entries).filter(
    (file) => !nestedRepositories.some((nested) => file === `${nested.path}/`),
  );
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
 * Uncommitted paths of the worktree (its status without what conductor put there: copied env
 * files, context files and seeded folders, a symlink one shows as untracked even where
 * `node_modules/` is ignored) but untracked files under `.context/`, which are scratch. A tracked
 * `.context/` file that was edited or deleted is work (conductor never commits `.context/`).
 */
function uncommittedWork(entries: readonly StatusEntry[]): string[] {
  return entries
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
 * as gitlinks, and `untracked` folders that are repositories of their own (an agent's `git init`
 * or `git clone`), with the commits of their HEAD and branches that none of their
 * remote-tracking refs hold; an untracked one without any commit counts too (its files are in
 * no commit, and git refuses to stage it). A worktree of the workspace's own repository is not
 * one: its commits are the repository's.
 *
 * The agent made these repositories, and git reads their config: git runs here only to read
 * refs and count commits, never fetching a missing object (a partial clone's promisor remote
 * would run its `core.sshCommand`).
 */
async function nestedRepositoryLosses(
  worktree: string,
  untracked: readonly string[],
): Promise<NestedRepositoryLoss[]> {
  const staged = await runGit(worktree, ["ls-files", "--stage", "-z"]);
  const gitlinks = staged
    .split("\0")
    .filter((entry) => entry.startsWith("160000 "))
    .map((entry) => {
      const [meta = "", file = ""] = entry.split("\t");
      return { file, commit: meta.split(" ")[1] ?? "", tracked: true };
    });
  const candidates = [
    ...gitlinks,
    ...untracked.map((file) => ({ file, commit: "", tracked: false })),
  ];
  if (candidates.length === 0) return [];
  const ownCommonDir = await commonGitDir(worktree);
  const losses: NestedRepositoryLoss[] = [];
  for (const link of candidates) {
    const nested = path.join(worktree, link.file);
    const where = await runGitExpecting(
      nested,
      ["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir"],
      [0, 128],
    ).catch(() => undefined);
    const [toplevel = "", commonDir = ""] = where?.stdout.trim().split("\n") ?? [];
    // Not checked out: nothing of it lives in the worktree.
    if (where?.exitCode !== 0 || !samePath(toplevel, nested)) continue;
    // A worktree of the workspace's own repository: its commits are the repository's.
    if (samePath(commonDir, ownCommonDir)) continue;
    const counted = await runGit(nested, [
      "rev-list",
      "--count",
      "--missing=allow-any",
      "--ignore-missing",
      "HEAD",
      "--branches",
      ...(link.commit === "" ? [] : [link.commit]),
      "--not",
      "--remotes",
    ]).catch((error: Error) => error);
    if (counted instanceof Error) {
      losses.push({ path: link.file, kind: "unreadable", message: firstLine(counted.message) });
    } else if (Number(counted.trim()) > 0) {
      losses.push({ path: link.file, kind: "commits", commits: Number(counted.trim()) });
    } else if (!link.tracked && !(await hasAnyCommit(nested))) {
      losses.push({ path: link.file, kind: "no-commit" });
    }
  }
  return losses;
}

/** Whether the repository at `dir` has a commit: HEAD on one, or any ref. */
async function hasAnyCommit(dir: string): Promise<boolean> {
  const head = await runGitExpecting(dir, ["rev-parse", "--verify", "-q", "HEAD"], [0, 1]);
  if (head.exitCode === 0) return true;
  return (await runGit(dir, ["for-each-ref", "--count=1", "--format=%(refname)"])).trim() !== "";
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

/**
 * `3 uncommitted files: a, b, c` and `2 commits not on main or any remote`, as lines, through
 * the workspace's redactor ({@link scriptRedactor}): a file the commit step refused for the secret
 * in its name is still in the worktree under that name.
 */
export async function describeLosses(found: FoundWorkspace, losses: Losses): Promise<string[]> {
  const redactor = await scriptRedactor(found);
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
      `detached HEAD at ${detachedHead.commit.slice(0, 10)}: ${plural(detachedHead.commits, "commit")} no branch holds (keep them with \`git -C ${shellQuote(found.workspace.path)} branch ${shellQuote(`${found.workspace.branch}-detached`)} ${detachedHead.commit}\`)`,
    );
  }
  for (const nested of nestedRepositories) {
    lines.push(`nested repository ${nested.path} has ${nestedLoss(nested)}`);
  }
  if (unmergedCommits > 0) {
    lines.push(
      `${unmergedCommits} commit${unmergedCommits === 1 ? "" : "s"} not on ${found.run.plan.base.ref} or any remote (branch ${found.workspace.branch})`,
    );
  }
  return lines.map((line) => redactor.redact(line));
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
