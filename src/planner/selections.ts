import type { Config, TaskConfig } from "../schema/config.js";
import type { PathIssue } from "../schema/zod-issues.js";
import type { WorkspaceDraft } from "./expand.js";
import type { Plan, TaskSelection, Workspace } from "./types.js";

/**
 * The tasks that pick a winner among their workspaces (`select: best | first-passing` with more
 * than one workspace), in config order, with their candidates, the branch the winner takes and
 * the tasks that start from it.
 */
export function selectionsOf(
  drafts: readonly WorkspaceDraft[],
  config: Config,
  plainBranch: (task: TaskConfig) => string | undefined,
): TaskSelection[] {
  const selections: TaskSelection[] = [];
  for (const task of config.tasks) {
    const candidates = drafts.filter((draft) => draft.task === task);
    const mode = candidates[0]?.select;
    if (mode === undefined || mode === "manual") continue;
    selections.push({
      taskId: task.id,
      mode,
      candidates: candidates.map((draft) => ({ name: draft.name, branch: draft.branch })),
      branch: plainBranch(task),
      archiveLosers: task.select?.archiveLosers ?? config.select?.archiveLosers ?? false,
      dependents: config.tasks
        .filter((other) => other.dependsOn.includes(task.id))
        .map((other) => other.id),
    });
  }
  return selections;
}

/**
 * Problems of a shard split that separates a task picking a winner from a task that starts from
 * it: the winner is picked among all candidates, so they and their dependents must share a shard.
 */
export function splitSelectionProblems(
  shards: readonly (readonly string[])[],
  selections: readonly TaskSelection[],
): PathIssue[] {
  const shardOf = new Map<string, number>();
  shards.forEach((taskIds, index) => {
    for (const id of taskIds) shardOf.set(id, index);
  });
  const problems: PathIssue[] = [];
  for (const selection of selections) {
    const home = shardOf.get(selection.taskId);
    for (const dependent of selection.dependents) {
      const other = shardOf.get(dependent);
      if (home === undefined || other === undefined || other === home) continue;
      problems.push({
        keyPath: ["tasks"],
        at: "value",
        message: `--shard would run "${dependent}" on shard ${other + 1} and the candidates of "${selection.taskId}", whose winner it starts from, on shard ${home + 1}; a task and the tasks that start from its winner must run on one shard`,
      });
    }
  }
  return problems;
}

/**
 * A stand-in workspace for each branch name a winner will take (`<task> (winner)`, no folder),
 * so that what checks a plan's branches before a run (taken names, earlier runs holding them)
 * sees these names too.
 */
export function winnerBranchHolders(plan: Plan): Workspace[] {
  return (plan.selections ?? []).flatMap((selection) => {
    const first = plan.workspaces.find(
      (workspace) => workspace.name === selection.candidates[0]?.name,
    );
    if (selection.branch === undefined || first === undefined) return [];
    return [{ ...first, name: `${selection.taskId} (winner)`, branch: selection.branch, path: "" }];
  });
}
