import { OperationError, UnsafeOperationError, UsageError } from "../errors.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { branchInUse, howToEnd } from "../git/branch-in-use.js";
import { resolveCommit } from "../git/facts.js";
import { IgnoredFilesInTheWayError } from "../git/in-the-way.js";
import { isAncestor } from "../git/integrity.js";
import { moveBranch, switchCheckoutTree, trackedChanges } from "../git/land.js";
import { git, gitMessage, listWorktrees } from "../git/worktree.js";
import { checkoutLinkChanges } from "../git/worktree-link.js";
import { conductorCommand, gitCommand, placeholder } from "../hint/command.js";
import { shellCommand } from "../hint/shell-quote.js";
import { mergePullRequest, type PullRequestFacts } from "../review/github-pr.js";
import type { MergeMethod } from "../schema/config.js";
import type { GitHubAccess } from "./github-access.js";
import { headToLand } from "./head-to-land.js";

/** What landing a workspace through its pull request did. */
export interface PullRequestLanding {
  name: string;
  number: number;
  url: string;
  /** False when GitHub had merged the pull request already. */
  mergedNow: boolean;
  /** Whether the branch was pushed first (it had commits GitHub lacked). */
  pushed: boolean;
  /** What happened to the local base branch, one line. */
  localBase: string;
  /** Whether the branch's commits are now on the base (so the branch can go). */
  branchMerged: boolean;
}

/**
 * Merges a workspace's open pull request on GitHub with `gh pr merge --merge | --squash`, after
 * making sure GitHub merges exactly the branch's head: commits GitHub lacks are pushed first
 * (never forced), and commits only GitHub has refuse the merge, so nothing is lost either way.
 * Then the local base branch fast-forwards to GitHub's when it can. `checkedHead`: the branch
 * head the merge's checks looked at; a branch that moved since is refused.
 */
export async function landPullRequest(
  found: FoundWorkspace,
  pr: PullRequestFacts,
  method: MergeMethod,
  access: Extract<GitHubAccess, { ready: true }>,
  checkedHead?: string,
): Promise<PullRequestLanding> {
  const { workspace, run } = found;
  const name = workspace.name;
  const head = await headToLand(found, checkedHead);
  const landed = (fields: Pick<PullRequestLanding, "mergedNow" | "pushed">) =>
    syncBase(found, pr, head).then((sync) => ({
      name,
      number: pr.number,
      url: pr.url,
      ...fields,
      localBase: sync.line,
      branchMerged: sync.contains,
    }));
  if (pr.state === "MERGED") return landed({ mergedNow: false, pushed: false });
  if (pr.state === "CLOSED") {
    throw new UnsafeOperationError(
      `${name}: PR #${pr.number} was closed without merging; nothing was merged`,
      {
        hint: `Reopen it on GitHub (${pr.url}), or merge locally: ${conductorCommand(["merge", name, "--run", run.runId, "--local"])}`,
      },
    );
  }
  if (method === "ff") {
    throw new UsageError(
      `${name}: GitHub cannot fast-forward PR #${pr.number}; nothing was merged`,
      {
        hint: `Merge it with a merge commit (${conductorCommand(["merge", name, "--run", run.runId, "--method", "merge"])}), squash it, or fast-forward locally with --local.`,
      },
    );
  }
  const pushed = await bringGitHubToHead(found, pr, head);
  const merged = await mergePullRequest(access.gh, pr.number, { method, head }, access.run);
  if (!merged.ok) {
    throw new OperationError(
      `${name}: GitHub did not merge PR #${pr.number}${pushed ? ` (${workspace.branch} was pushed first)` : ""}: ${merged.message}`,
      { hint: `See ${pr.url}; nothing was merged.` },
    );
  }
  return landed({ mergedNow: true, pushed });
}

/**
 * Makes GitHub's head of the pull request the branch's head. The branch ahead of GitHub is
 * pushed (a plain push: git refuses anything but a fast-forward); GitHub ahead of the branch,
 * or both apart, refuses: merging would drop the commits the branch lacks, or merge unseen ones.
 */
async function bringGitHubToHead(
  found: FoundWorkspace,
  pr: PullRequestFacts,
  head: string,
): Promise<boolean> {
  const { workspace, run } = found;
  const root = run.plan.repo.root;
  if (pr.headRefOid === head) return false;
  const known = (await resolveCommit(root, pr.headRefOid)) !== undefined;
  if (!known || !(await isAncestor(root, pr.headRefOid, head))) {
    throw new UnsafeOperationError(
      `${workspace.name}: PR #${pr.number} has commits on GitHub that ${workspace.branch} lacks (GitHub's head is ${pr.headRefOid.slice(0, 10)}); nothing was merged`,
      {
        hint: `Bring them into the branch first (${shellCommand(["git", "-C", workspace.path, "pull", "--no-rebase", "origin", pr.headRefName || workspace.branch])}), then merge again.`,
      },
    );
  }
  const target = pr.headRefName || workspace.branch;
  // A fork's head branch is not on origin: pushing there would create a stray branch or, for a
  // fork branch named like the base, move the base itself.
  if (pr.isCrossRepository) {
    throw new UnsafeOperationError(
      `${workspace.name}: PR #${pr.number} comes from a fork; conductor pushes only to origin, so nothing was pushed or merged`,
      {
        hint: `Push it to the fork yourself: ${gitCommand(root, ["push", placeholder("<fork remote>"), `refs/heads/${workspace.branch}:refs/heads/${target}`])}, then merge again.`,
      },
    );
  }
  if (target === pr.baseRefName) {
    throw new UnsafeOperationError(
      `${workspace.name}: PR #${pr.number}'s head branch is its base ${target}; pushing would move ${target}, so nothing was pushed or merged`,
      { hint: `See ${pr.url}.` },
    );
  }
  try {
    await git(root, ["push", "origin", `refs/heads/${workspace.branch}:refs/heads/${target}`]);
  } catch (error) {
    throw new OperationError(
      `${workspace.name}: pushing ${workspace.branch} to PR #${pr.number} failed: ${gitMessage(error)}; nothing was merged`,
      { hint: "conductor never force-pushes; bring the branch up to date with GitHub first." },
    );
  }
  return true;
}

/**
 * Fetches GitHub's base branch and fast-forwards the local one to it when the local one has
 * nothing of its own, updating the checkout that has it checked out only when that is clean.
 * Never fails the merge, which happened on GitHub: it says what it did or what to run.
 */
async function syncBase(
  found: FoundWorkspace,
  pr: PullRequestFacts,
  head: string,
): Promise<{ line: string; contains: boolean }> {
  const root = found.run.plan.repo.root;
  const local = found.run.plan.base.ref;
  const remote = pr.baseRefName || local;
  const tracking = `refs/remotes/origin/${remote}`;
  try {
    await git(root, ["fetch", "--quiet", "origin", `+refs/heads/${remote}:${tracking}`]);
  } catch (error) {
    return {
      line: `could not fetch origin ${remote} (${gitMessage(error)}); run git pull to bring ${local} up to date`,
      contains: false,
    };
  }
  const fetched = await resolveCommit(root, tracking);
  if (fetched === undefined) return { line: `origin has no ${remote}`, contains: false };
  const contains = await isAncestor(root, head, fetched);
  // GitHub merged into its base; the local base only follows when it is that same branch.
  if (remote !== local && !(await tracks(root, local, `origin/${remote}`))) {
    return { line: `GitHub merged it into ${remote}; ${local} left as it is`, contains };
  }
  const from = await resolveCommit(root, `refs/heads/${local}`);
  const manual = shellCommand(["git", "merge", "--ff-only", `origin/${remote}`]);
  if (from === undefined || from === fetched) {
    return { line: `${local} is at origin/${remote}`, contains };
  }
  if (!(await isAncestor(root, from, fetched))) {
    return { line: `${local} has commits origin/${remote} lacks: left as it is`, contains };
  }
  // The rebase (or bisect) would set the base back where it started when it ends.
  const busy = await branchInUse(root, local);
  if (busy !== undefined) {
    return {
      line: `${local} is being ${busy.what} in ${busy.path}: left as it is (${howToEnd(busy)}, then run ${manual} there)`,
      contains,
    };
  }
  const checkout = (await listWorktrees(root)).find(
    (entry) => entry.branch === local && !entry.prunable,
  );
  const relinked = checkout === undefined ? [] : await checkoutLinkChanges(root, checkout.path);
  if (checkout !== undefined && relinked.length > 0) {
    return {
      line: `${local} is checked out in ${checkout.path}, whose link to the repository is not as git made it (${relinked.join("; ")}): left as it is (look at it, then ${shellCommand(["git", "-C", root, "worktree", "repair", checkout.path])} and ${manual} there)`,
      contains,
    };
  }
  if (checkout !== undefined && (await trackedChanges(checkout.path)).length > 0) {
    return {
      line: `${local} is checked out in ${checkout.path} with uncommitted changes: left as it is (then run ${manual} there)`,
      contains,
    };
  }
  try {
    if (checkout !== undefined) await switchCheckoutTree(checkout.path, from, fetched);
    await moveBranch(
      root,
      local,
      fetched,
      from,
      `conductor merge: fast-forward to origin/${remote}`,
    );
  } catch (error) {
    if (error instanceof IgnoredFilesInTheWayError) {
      // git merge --ff-only would replace them without asking, too: they go first.
      return {
        line: `${local} left as it is: fast-forwarding it would overwrite ignored files of ${checkout?.path}, where it is checked out: ${error.files.join(", ")}; move them out of the way, then run ${manual} there`,
        contains,
      };
    }
    if (checkout !== undefined)
      await switchCheckoutTree(checkout.path, fetched, from).catch(() => {});
    return { line: `${local} left as it is (${gitMessage(error)}); run ${manual}`, contains };
  }
  const updated = checkout === undefined ? "" : `; updated the checkout ${checkout.path}`;
  return {
    line: `${local} ${from.slice(0, 10)} → ${fetched.slice(0, 10)} (fast-forwarded to origin/${remote})${updated}`,
    contains,
  };
}

/** Whether the local branch `local` has `upstream` (e.g. `origin/develop`) as its upstream. */
async function tracks(root: string, local: string, upstream: string): Promise<boolean> {
  const configured = await git(root, [
    "for-each-ref",
    "--format=%(upstream:short)",
    `refs/heads/${local}`,
  ]).catch(() => "");
  return configured.trim() === upstream;
}
