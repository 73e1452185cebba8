import { OperationError, StateError, UsageError } from "../errors.js";
import { archivedHint } from "../executor/archived-hint.js";
import type { SelectionRecord } from "../executor/events.js";
import { isRunLive } from "../executor/load-run.js";
import { appendEvent, RunPaths, saveRunState } from "../executor/run-store.js";
import { candidateFacts, type ReviewReader } from "../executor/selection/facts.js";
import { saveRanking, takePlainBranch } from "../executor/selection/pick-winner.js";
import { applyEvent } from "../executor/state-fold.js";
import type { RunState } from "../executor/types.js";
import { isAncestor } from "../git/integrity.js";
import { GitMetadataQueue } from "../git/worktree.js";
import { conductorCommand } from "../hint/command.js";
import type { TaskSelection } from "../planner/types.js";
import { describeSelection } from "../report/selection.js";
import { renderTable } from "../report/table.js";
import { didYouMeanSuffix } from "../schema/suggest.js";
import { pickedByHand, type Ranking, rankCandidates } from "../selection/rank.js";

/**
 * The selection of `task` in a run; a usage error otherwise, naming the run's tasks when there is
 * no such task, and the tasks that have a selection when it has none.
 */
export function selectionOf(run: RunState, task: string): TaskSelection {
  const selections = run.plan.selections ?? [];
  const found = selections.find((selection) => selection.taskId === task);
  if (found !== undefined) return found;
  const known = selections.map((selection) => selection.taskId);
  const tasks = [...new Set(run.plan.workspaces.map((workspace) => workspace.taskId))];
  if (!tasks.includes(task)) {
    // A typo must not read as a fact about a task that exists.
    throw new UsageError(`no task ${task} in run ${run.runId}.${didYouMeanSuffix(task, tasks)}`, {
      hint: `Tasks of run ${run.runId}: ${tasks.join(", ")}${
        known.length === 0
          ? " (none picks a winner)"
          : `; ${known.length === 1 ? "the one that picks" : "those that pick"} a winner: ${known.join(", ")}`
      }.`,
    });
  }
  throw new UsageError(
    `task ${task} of run ${run.runId} picks no winner (it has one workspace, or select: manual)`,
    {
      hint:
        known.length === 0
          ? "No task of this run picks a winner: give a task attempts: 2 (or a matrix) to compare workspaces."
          : `Tasks that pick a winner: ${known.join(", ")}.`,
    },
  );
}

/**
 * The ranking as `pick` shows it: the recorded one, or (not picked yet) the ranking by check,
 * review and diff size as they stand now, without a judge.
 */
export async function currentRanking(
  run: RunState,
  selection: TaskSelection,
  reviewOf: ReviewReader,
): Promise<Ranking> {
  const recorded = run.selections?.[selection.taskId];
  if (recorded !== undefined && recorded.ranking.candidates.length > 0) return recorded.ranking;
  return rankCandidates(await candidateFacts(run, selection, reviewOf));
}

/** `conductor pick <task>`: the winner line, then one row per candidate, best first. */
export function renderRanking(run: RunState, selection: TaskSelection, ranking: Ranking): string {
  const recorded = run.selections?.[selection.taskId];
  const head =
    recorded === undefined
      ? `${selection.taskId}: not picked yet (select ${selection.mode}); the ranking as it stands, without a judge:`
      : `${selection.taskId}: ${describeSelection(recorded)}`;
  const branchOf = (name: string) =>
    run.plan.workspaces.find((workspace) => workspace.name === name)?.branch ?? "-";
  const rows = [
    ["#", "WORKSPACE", "STATUS", "RANKED BY", "BRANCH"],
    ...ranking.candidates.map((candidate, index) => [
      String(index + 1),
      candidate.name,
      run.workspaces[candidate.name]?.status ?? "-",
      candidate.summary,
      branchOf(candidate.name),
    ]),
  ];
  const judge = recorded?.judge?.promptFile;
  const files =
    judge === undefined
      ? ""
      : `\nThe judge's prompt and answer: ${new RunPaths(run.plan.repo.root, run.runId).dir}/selections/${selection.taskId}/\n`;
  return `${head}\n\n${renderTable(rows)}\n${files}`;
}

/**
 * Sets the winner of a task by hand, overriding the automatic pick: the winner's branch takes
 * the task's plain name (the previous winner gets its own back), and `selection.made` is
 * recorded with `manual: true`. Returns the new state.
 */
export async function pickByHand(
  run: RunState,
  selection: TaskSelection,
  workspace: string,
  reviewOf: ReviewReader,
): Promise<RunState> {
  const candidate = selection.candidates.find((entry) => entry.name === workspace);
  if (candidate === undefined) {
    throw new UsageError(
      `${workspace} is not a candidate of ${selection.taskId}; its candidates are ${selection.candidates.map((entry) => entry.name).join(", ")}`,
    );
  }
  if (isRunLive(run)) {
    throw new StateError(`run ${run.runId} is still running (pid ${run.pid})`, {
      hint: `Pick once it has finished; \`${conductorCommand(["status", "--run", run.runId])}\` follows it.`,
    });
  }
  const state = run.workspaces[workspace];
  const planned = run.plan.workspaces.find((entry) => entry.name === workspace);
  if (state?.archived !== undefined && planned !== undefined) {
    // Its work still exists (on a kept ref or branch): say where, not that there is none.
    throw new UsageError(`${workspace} was archived; an archived workspace cannot be the winner`, {
      hint: archivedHint(run.plan.repo.root, planned, state.archived),
    });
  }
  if (state?.commit === undefined) {
    throw new UsageError(`${workspace} has no work to pick (no commit on its branch)`);
  }
  const previous = run.selections?.[selection.taskId];
  const ranking = pickedByHand(await currentRanking(run, selection, reviewOf), workspace);
  const moved = await takePlainBranch(
    { plan: run.plan, queue: new GitMetadataQueue() },
    selection,
    workspace,
    previous?.branch === undefined ? undefined : previous.winner,
  );
  if (selection.branch !== undefined && moved.branch === undefined) {
    throw new OperationError(
      moved.note ?? `could not give ${workspace} the branch ${selection.branch}`,
    );
  }
  const record: SelectionRecord = {
    task: selection.taskId,
    winner: workspace,
    ranking,
    manual: true,
    ...moved,
    ...(previous?.judge === undefined ? {} : { judge: previous.judge }),
  };
  const paths = new RunPaths(run.plan.repo.root, run.runId);
  const event = {
    type: "selection.made" as const,
    time: new Date().toISOString(),
    runId: run.runId,
    ...record,
  };
  appendEvent(paths, event);
  const next = applyEvent(run, event);
  saveRunState(paths, next);
  // The judge's record comes from the run state, redacted when its event was written.
  await saveRanking(paths.dir, record, (text) => text);
  return next;
}

/** A workspace that starts from a task's winner, and the candidate its worktree was made from. */
export interface DependentStart {
  name: string;
  /** The candidate whose commit its start holds; undefined while it has no worktree (or none is found). */
  from?: string;
  /** Its worktree exists: it keeps the start it has, whatever is picked now. */
  started: boolean;
  succeeded: boolean;
}

/**
 * The workspaces of a run that start from `task`'s winner, each with the candidate it actually
 * started from. Derived from git (the candidate whose commit its start commit holds), not from
 * the winner recorded before the pick: a task may have been picked by hand more than once, and
 * the last winner need not be the one a dependent was built on.
 */
export async function dependentStarts(run: RunState, task: string): Promise<DependentStart[]> {
  const root = run.plan.repo.root;
  const candidates = (run.plan.selections ?? []).find((entry) => entry.taskId === task)?.candidates;
  const dependents = run.plan.workspaces.filter((planned) => planned.winnerOf?.includes(task));
  return Promise.all(
    dependents.map(async (planned) => {
      const state = run.workspaces[planned.name];
      const started = state?.worktreeCreated === true;
      const succeeded = state?.status === "succeeded";
      const start = state?.startCommit;
      if (!started || start === undefined) return { name: planned.name, started, succeeded };
      for (const candidate of candidates ?? []) {
        const commit = run.workspaces[candidate.name]?.commit;
        if (commit !== undefined && (await isAncestor(root, commit, start).catch(() => false)))
          return { name: planned.name, from: candidate.name, started, succeeded };
      }
      return { name: planned.name, started, succeeded };
    }),
  );
}
