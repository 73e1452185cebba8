import { LOSERS_REFS } from "../executor/archived-hint.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { appendEvent, RunPaths } from "../executor/run-store.js";
import type { RunState } from "../executor/types.js";
import { git } from "../git/worktree.js";
import {
  type ArchiveOptions,
  type ArchiveResult,
  archiveWorkspace,
  checkArchivable,
} from "./archive.js";

/** The candidates that lost: of every task with a winner, the others not archived yet. */
export function losersOf(run: RunState, onlyTasks?: ReadonlySet<string>): FoundWorkspace[] {
  const losers: FoundWorkspace[] = [];
  for (const selection of run.plan.selections ?? []) {
    if (onlyTasks !== undefined && !onlyTasks.has(selection.taskId)) continue;
    const winner = run.selections?.[selection.taskId]?.winner;
    if (winner === undefined) continue;
    for (const candidate of selection.candidates) {
      if (candidate.name === winner) continue;
      const workspace = run.plan.workspaces.find((planned) => planned.name === candidate.name);
      const state = run.workspaces[candidate.name];
      if (workspace === undefined || state === undefined || state.archived !== undefined) continue;
      losers.push({ run, workspace, state });
    }
  }
  return losers;
}

/** Where a loser's branch is kept: `refs/conductor/losers/<run>/<workspace>`. */
export function loserRef(runId: string, workspace: string): string {
  return `${LOSERS_REFS}${runId}/${workspace}`;
}

/**
 * Archives the losers of a run's best-of-N tasks: each is checked (nothing uncommitted would be
 * lost), archived like `archive <workspace>`, and its branch moved to {@link loserRef}: created
 * there first, then deleted only if it still points at the same commit, so no commit is lost.
 */
export async function archiveLosers(
  run: RunState,
  options: Omit<ArchiveOptions, "deleteBranch"> & { onlyTasks?: ReadonlySet<string> },
): Promise<(ArchiveResult & { keptAs: string | undefined })[]> {
  const candidates = await checkArchivable(losersOf(run, options.onlyTasks), {
    deleteBranch: false,
    force: options.force,
  });
  const root = run.plan.repo.root;
  const results: (ArchiveResult & { keptAs: string | undefined })[] = [];
  for (const candidate of candidates) {
    if (options.signal.aborted) break;
    const result = await archiveWorkspace(candidate, { ...options, deleteBranch: false });
    const { workspace } = candidate.found;
    const keptAs = await keepBranchAs(root, workspace.branch, loserRef(run.runId, workspace.name));
    if (keptAs !== undefined) {
      appendEvent(new RunPaths(root, run.runId), {
        type: "workspace.archived",
        time: new Date().toISOString(),
        runId: run.runId,
        workspace: workspace.name,
        branchDeleted: true,
        keptAs,
      });
    }
    results.push({ ...result, keptAs });
  }
  return results;
}

/** Moves `refs/heads/<branch>` to `ref` with compare-and-swap updates; undefined without the branch. */
async function keepBranchAs(
  root: string,
  branch: string,
  ref: string,
): Promise<string | undefined> {
  const head = (
    await git(root, ["for-each-ref", "--format=%(objectname)", `refs/heads/${branch}`])
  ).trim();
  if (head === "") return undefined;
  // Create only (the old value must be "none"), then delete only if the branch did not move.
  await git(root, ["update-ref", ref, head, ""]);
  await git(root, ["update-ref", "-d", `refs/heads/${branch}`, head]);
  return ref;
}
