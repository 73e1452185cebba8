import { execa } from "execa";
import { OperationError, StateError } from "../errors.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { branchExists, git } from "../git/worktree.js";
import { shellCommand } from "../hint/shell-quote.js";

/**
 * Where a workspace's changes are measured from: the commit its branch started at (recorded by
 * the worktree step), else the plan's start point (the base commit, or the branch it builds on).
 */
export function diffBase(found: FoundWorkspace): string {
  const { state, workspace } = found;
  if (state.startCommit !== undefined) return state.startCommit;
  const start = workspace.startPoint;
  return start.kind === "workspace" || start.kind === "winner" ? start.branch : start.commit;
}

/** `git diff <base>...<branch>` arguments of a workspace (`--stat` for the summary only). */
export async function workspaceDiffArgs(
  found: FoundWorkspace,
  options: { stat: boolean },
): Promise<string[]> {
  const { workspace, run } = found;
  // A later run took the branch name: this workspace's work is on the ref it was kept as.
  const keptAs = found.state.archived?.keptAs;
  if (keptAs !== undefined) {
    return ["diff", ...(options.stat ? ["--stat"] : []), `${diffBase(found)}...${keptAs}`, "--"];
  }
  if (!(await branchExists(run.plan.repo.root, workspace.branch))) {
    throw new StateError(`the branch ${workspace.branch} of ${workspace.name} does not exist`, {
      hint:
        found.state.archived?.branchDeleted === true
          ? "It was deleted when the workspace was archived."
          : await missingBranchHint(found),
    });
  }
  return [
    "diff",
    ...(options.stat ? ["--stat"] : []),
    `${diffBase(found)}...refs/heads/${workspace.branch}`,
    "--",
  ];
}

/**
 * Runs git on the user's terminal: its own pager and colours when stdout is a terminal, plain
 * text when piped (git decides both). Ctrl-C belongs to git and the pager meanwhile; conductor
 * must not die under a pager that still owns the terminal.
 */
export async function gitOnTerminal(cwd: string, args: readonly string[]): Promise<number> {
  const ignore = () => {};
  process.on("SIGINT", ignore);
  try {
    const result = await execa("git", args, { cwd, stdio: "inherit", reject: false });
    // A reader that stops early (`| head`) ends git with SIGPIPE; that is not a failure.
    if (result.signal !== undefined) return result.signal === "SIGPIPE" ? 0 : 1;
    if (result.exitCode === undefined) {
      throw new OperationError(`git could not be started: ${result.shortMessage}`);
    }
    return result.exitCode;
  } finally {
    process.off("SIGINT", ignore);
  }
}

/**
 * What to do about a branch deleted outside conductor: the commit the run recorded for the
 * workspace is usually still in the repository (git keeps unreachable commits until it prunes
 * them), and a branch at it brings the work back for `diff` and every other command.
 */
async function missingBranchHint(found: FoundWorkspace): Promise<string> {
  const { state, workspace, run } = found;
  const root = run.plan.repo.root;
  const commit = state.commit;
  const kept =
    commit !== undefined &&
    (await git(root, ["cat-file", "-e", `${commit}^{commit}`]).then(
      () => true,
      () => false,
    ));
  if (!kept) return "The workspace never created it, or it was deleted.";
  const restore = shellCommand(["git", "-C", root, "branch", workspace.branch, commit]);
  return `It was deleted; its last commit ${commit.slice(0, 10)} is still in the repository: \`${restore}\` puts the branch back.`;
}
