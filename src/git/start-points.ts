import { conductorCommand, gitCommand, placeholder } from "../hint/command.js";
import { shellCommand } from "../hint/shell-quote.js";
import type { Plan, ResolvedStart } from "../planner/types.js";
import { startKey } from "../planner/types.js";
import type { TaskConfig } from "../schema/config.js";
import type { PathIssue } from "../schema/zod-issues.js";
import { resolveCommit } from "./facts.js";
import { runGit } from "./run-git.js";
import { gitMessage, listWorktrees, samePath } from "./worktree.js";

/** The remote pull requests are fetched from. */
export const PULL_REQUEST_REMOTE = "origin";

/** The local ref a pull request's head is fetched into. */
export function pullRequestRef(number: number): string {
  return `refs/conductor/pull/${number}/head`;
}

/**
 * Resolves every task's `from:`, `branch:` and `pr:` before planning (the planner is pure): the
 * commit each names, a branch's upstream, a pull request's head fetched from origin into
 * {@link pullRequestRef}. What cannot be used is a problem located at the task's key.
 */
export async function resolveStartPoints(
  root: string,
  tasks: readonly TaskConfig[],
): Promise<{ starts: Record<string, ResolvedStart>; problems: PathIssue[] }> {
  const starts: Record<string, ResolvedStart> = {};
  const problems: PathIssue[] = [];
  const withStart = tasks.flatMap((task, index) => (task.start ? [{ task, index }] : []));
  if (withStart.length === 0) return { starts, problems };
  const worktrees = withStart.some(({ task }) => task.start?.kind === "branch")
    ? await listWorktrees(root)
    : [];
  for (const { task, index } of withStart) {
    const start = task.start;
    if (start === undefined || starts[startKey(start)] !== undefined) continue;
    const problem = (message: string) =>
      problems.push({ keyPath: ["tasks", index, start.kind], at: "value", message });
    switch (start.kind) {
      case "from": {
        const commit = await resolveCommit(root, start.ref);
        if (commit === undefined) {
          problem(
            `"${start.ref}" is not a branch, tag or commit of this repository${await missingRefHint(root, start.ref)}`,
          );
        } else starts[startKey(start)] = { commit };
        break;
      }
      case "branch": {
        const found = await resolveBranch(root, start.branch, worktrees);
        if (typeof found === "string") problem(found);
        else starts[startKey(start)] = found;
        break;
      }
      case "pr": {
        const found = await fetchPullRequest(root, start.number);
        if (typeof found === "string") problem(found);
        else starts[startKey(start)] = found;
        break;
      }
    }
  }
  return { starts, problems };
}

/**
 * How to make a `from:` ref that does not resolve usable, as a command that works when pasted:
 * `git fetch origin <name>` alone only fills FETCH_HEAD and `origin/<name>`, which `from: <name>`
 * never reads, so a name is fetched into a local ref of its own (`<name>:<name>`; git makes it a
 * tag or a branch like the remote's). A full commit id needs only its object; a revision expression
 * (`main~5`) or a repository without origin has nothing to fetch.
 */
async function missingRefHint(root: string, ref: string): Promise<string> {
  const tracking = `${PULL_REQUEST_REMOTE}/${ref}`;
  if ((await resolveCommit(root, `refs/remotes/${tracking}`)) !== undefined) {
    return `, only ${tracking} is; write from: ${tracking}, or make it local first (${gitCommand(root, ["branch", "--no-track", ref, tracking])})`;
  }
  const origin = await runGit(root, ["remote", "get-url", PULL_REQUEST_REMOTE]).catch(() => "");
  if (origin.trim() === "") return "; check the name (git branch --all, git tag)";
  if (/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(ref))
    return `; fetch it first (${gitCommand(root, ["fetch", PULL_REQUEST_REMOTE, ref])})`;
  const named = await runGit(root, ["check-ref-format", "--allow-onelevel", ref])
    .then(() => true)
    .catch(() => false);
  return named
    ? `; fetch it first (${gitCommand(root, ["fetch", PULL_REQUEST_REMOTE, `${ref}:${ref}`])})`
    : "; check the name (git branch --all, git tag)";
}

/** An existing local branch to continue on, with its upstream; or why it cannot be used. */
async function resolveBranch(
  root: string,
  branch: string,
  worktrees: Awaited<ReturnType<typeof listWorktrees>>,
): Promise<ResolvedStart | string> {
  const commit = await resolveCommit(root, `refs/heads/${branch}`);
  if (commit === undefined) {
    const remote = await resolveCommit(root, `refs/remotes/${PULL_REQUEST_REMOTE}/${branch}`);
    return remote === undefined
      ? `there is no local branch "${branch}"; create it (${gitCommand(root, ["branch", branch, placeholder("<start>")])}) or use from: to start a new branch`
      : `there is no local branch "${branch}", only ${PULL_REQUEST_REMOTE}/${branch}; make it local first: ${gitCommand(root, ["branch", "--track", branch, `${PULL_REQUEST_REMOTE}/${branch}`])}`;
  }
  // Git refuses a second checkout of a branch: say so now, before anything is created. A worktree
  // holding it may be the workspace's own (a resume, or an earlier run a new one takes over):
  // the CLI decides that once the plan names the workspace's path.
  const holder = worktrees.find((entry) => entry.branch === branch);
  if (holder !== undefined && holder === worktrees[0] && samePath(holder.path, root)) {
    return `branch "${branch}" is checked out in the main checkout; switch it to another branch first (${shellCommand(["git", "-C", root, "switch", "--detach"])} leaves it on the same commit)`;
  }
  const checkedOut = holder === undefined ? {} : { checkedOutAt: holder.path };
  const line = await runGit(root, [
    "for-each-ref",
    "--format=%(upstream:remotename)%00%(upstream:remoteref)",
    `refs/heads/${branch}`,
  ]).catch(() => "");
  const [remote = "", ref = ""] = line.trim().split("\0");
  const upstream =
    remote !== "" && ref.startsWith("refs/heads/")
      ? { remote, branch: ref.slice("refs/heads/".length) }
      : undefined;
  return upstream === undefined ? { commit, ...checkedOut } : { commit, upstream, ...checkedOut };
}

/** Fetches `refs/pull/<n>/head` from origin into a local ref; or why it could not. */
async function fetchPullRequest(root: string, number: number): Promise<ResolvedStart | string> {
  const ref = pullRequestRef(number);
  try {
    await runGit(
      root,
      ["fetch", "--quiet", "--no-tags", PULL_REQUEST_REMOTE, `+refs/pull/${number}/head:${ref}`],
      // Never wait for a password nobody will type.
      { env: { GIT_TERMINAL_PROMPT: "0" } },
    );
  } catch (error) {
    return `pull request #${number} could not be fetched from ${PULL_REQUEST_REMOTE} (${gitMessage(error)}); check the number and that ${PULL_REQUEST_REMOTE} is its GitHub repository`;
  }
  const commit = await resolveCommit(root, ref);
  return commit === undefined ? `pull request #${number} fetched nothing` : { commit, ref };
}

/**
 * Tasks continuing an existing branch that another worktree (not the workspace's own) has
 * checked out: git would refuse the checkout, so the plan is refused first.
 */
export function branchesCheckedOutElsewhere(
  plan: Plan,
  tasks: readonly TaskConfig[],
  starts: Readonly<Record<string, ResolvedStart>> | undefined,
  ownerOf: (worktree: string) => { runId: string; workspace: string } | undefined = () => undefined,
): PathIssue[] {
  const problems: PathIssue[] = [];
  for (const workspace of plan.workspaces) {
    const start = workspace.startPoint;
    if (start.kind !== "branch") continue;
    const holder = starts?.[`branch:${start.branch}`]?.checkedOutAt;
    if (holder === undefined || samePath(holder, workspace.path)) continue;
    const index = tasks.findIndex((task) => task.id === workspace.taskId);
    problems.push({
      keyPath: ["tasks", index, "branch"],
      at: "value",
      message: `branch "${start.branch}" is checked out in the worktree ${holder}; ${freeWorktree(plan.repo.root, holder, ownerOf(holder))}`,
    });
  }
  return problems;
}

/** How to free a worktree: archive the workspace that owns it (in its run), else remove it. */
function freeWorktree(
  root: string,
  holder: string,
  owner: { runId: string; workspace: string } | undefined,
): string {
  const remove = gitCommand(root, ["worktree", "remove", holder]);
  if (owner === undefined) return `remove it (${remove})`;
  const archive = conductorCommand(["archive", owner.workspace, "--run", owner.runId]);
  return `conductor made it: archive it (${archive}), or remove it (${remove})`;
}
