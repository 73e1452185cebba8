import { StateError } from "../errors.js";
import type { RunSession, RunState, RunStatus, WorkspaceState } from "../executor/types.js";
import { levelsOf } from "../planner/plan.js";
import type { Plan, Workspace } from "../planner/types.js";

/**
 * Which status wins when shards disagree: a shard still running or interrupted means the whole
 * run is unfinished (and resumable), which says more than a failure elsewhere.
 */
const STATUS_PRIORITY: readonly RunStatus[] = ["running", "interrupted", "failed", "succeeded"];

/**
 * Joins the run states of the CI shards of one plan (`conductor report merge`) into one state:
 * the workspaces are the union, in the order of the whole plan, the status is the worst of the
 * shards', and `plan.selection` describes the union. Throws {@link StateError} when the states
 * ran different plans or overlap, and, unless `partial`, when a shard of the plan is missing:
 * a CI job that died before it uploaded its run folder must not make the report of the others
 * read as the whole run's.
 */
export function mergeRunStates(
  states: readonly RunState[],
  options: { partial?: boolean } = {},
): RunState {
  const [first, ...others] = states;
  if (first === undefined) {
    throw new StateError("there are no run states to merge", {
      hint: "Name the run folders of the shards: conductor report merge <run folder>…",
    });
  }
  for (const other of others) {
    if (other.plan.hash !== first.plan.hash) {
      throw new StateError(
        `run ${other.runId} ran plan ${other.plan.hash.slice(0, 12)}, but run ${first.runId} ran plan ` +
          `${first.plan.hash.slice(0, 12)}: only shards of the same plan can be merged`,
        {
          hint: "Merge the run folders of one CI workflow run; after changing conductor.yaml or the base commit, run every shard again.",
        },
      );
    }
  }
  const owner = new Map<string, RunState>();
  const planned: Workspace[] = [];
  for (const state of states) {
    for (const workspace of state.plan.workspaces) {
      const earlier = owner.get(workspace.name);
      if (earlier !== undefined) {
        throw new StateError(
          `workspace ${workspace.name} is in both run ${earlier.runId} and run ${state.runId}: ` +
            "shards of one plan never share a workspace",
          { hint: "Give each shard's run folder once; a shard run twice has two folders." },
        );
      }
      owner.set(workspace.name, state);
      planned.push(workspace);
    }
  }
  refuseMixedSplits(states);
  if (options.partial !== true) refuseMissingShards(states);
  if (others.length === 0) return first;
  // The whole plan lists dependencies before dependents (by level), then by position in the
  // config, which portBlock records; sorting the union the same way gives the unsharded order.
  planned.sort((a, b) => a.level - b.level || a.portBlock - b.portBlock);

  const workspaces: Record<string, WorkspaceState> = {};
  for (const workspace of planned) {
    const state = owner.get(workspace.name) as RunState;
    const record = state.workspaces[workspace.name];
    if (record !== undefined) workspaces[workspace.name] = record;
  }

  const runIds = distinct(states.map((state) => state.runId));
  const runId = runIds.join("+");
  const planRunIds = distinct(states.map((state) => state.plan.runId ?? ""));
  // Each shard plans the selections of its own tasks; the whole plan has them all, in plan order.
  const selections = states
    .flatMap((state) => state.plan.selections ?? [])
    .sort(
      (a, b) =>
        planned.findIndex((w) => w.taskId === a.taskId) -
        planned.findIndex((w) => w.taskId === b.taskId),
    );
  const { selections: _firstShards, ...firstPlan } = first.plan;
  const plan: Plan = {
    ...firstPlan,
    runId: planRunIds.length === 1 ? first.plan.runId : runId,
    workspaces: planned,
    levels: levelsOf(planned),
    ...(selections.length === 0 ? {} : { selections }),
    selection: {
      taskPatterns: distinct(states.flatMap((state) => state.plan.selection.taskPatterns)),
      shard: undefined,
      totalWorkspaces: first.plan.selection.totalWorkspaces,
    },
  };

  const finished = states.every((state) => state.finishedAt !== undefined);
  const merged: RunState = {
    formatVersion: 1,
    runId,
    status: worstStatus(states.map((state) => state.status)),
    createdAt: earliest(states.map((state) => state.createdAt)),
    updatedAt: latest(states.map((state) => state.updatedAt)),
    // A merged state has no process of its own; the first shard's stands for it.
    pid: first.pid,
    plan,
    workspaces,
  };
  const picked = Object.assign({}, ...states.map((state) => state.selections ?? {}));
  if (Object.keys(picked).length > 0) merged.selections = picked;
  // A task's judges ran on the shard of its candidates.
  const judges = Object.assign({}, ...states.map((state) => state.judges ?? {}));
  if (Object.keys(judges).length > 0) merged.judges = judges;
  if (finished) merged.finishedAt = latest(states.map((state) => state.finishedAt as string));
  const sessions = mergeSessions(states);
  if (sessions !== undefined) merged.sessions = sessions;
  return merged;
}

/**
 * The sessions of shards that ran side by side, as one run's: overlapping sessions become one
 * spanning them, so the merged run's working time is the time some shard worked, not the sum of
 * the shards' times. Undefined when a shard has no sessions (an older version's state).
 */
function mergeSessions(states: readonly RunState[]): RunSession[] | undefined {
  if (states.some((state) => state.sessions === undefined)) return undefined;
  const all = states
    .flatMap((state) => state.sessions ?? [])
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  const merged: RunSession[] = [];
  for (const session of all) {
    const last = merged.at(-1);
    if (
      last?.finishedAt !== undefined &&
      session.finishedAt !== undefined &&
      Date.parse(session.startedAt) <= Date.parse(last.finishedAt)
    ) {
      const finishedAt = latest([last.finishedAt, session.finishedAt]);
      const { workspace: _one, ...spanning } = last;
      merged[merged.length - 1] = {
        ...spanning,
        finishedAt,
        durationMs: Date.parse(finishedAt) - Date.parse(last.startedAt),
      };
    } else {
      merged.push(session);
    }
  }
  return merged;
}

/**
 * Throws when sharded states come from different splits (another shard count, other tasks): the
 * shard indexes of two splits can add up to "every shard" while workspaces of neither ran, and
 * the missing-shard check below counts indexes. Also with `partial`, which would hide that.
 */
function refuseMixedSplits(states: readonly RunState[]): void {
  const [first, ...others] = states;
  // Runs that were not sharded are joined as they are (a report of several runs of some tasks).
  if (first === undefined || states.every((state) => !state.plan.selection.shard)) return;
  for (const other of others) {
    if (splitOf(other) === splitOf(first)) continue;
    throw new StateError(
      `run ${other.runId} is ${describeSplit(other)}, but run ${first.runId} is ${describeSplit(first)}: only shards of one split (one \`plan --matrix\`, the same tasks) can be merged`,
      {
        hint: "Merge the run folders of one CI workflow run, whose jobs all ran `conductor run --shard i/n` with the same n and tasks.",
      },
    );
  }
}

/** What makes two shards part of one split: their count and their tasks (index left out). */
function splitOf(state: RunState): string {
  const { shard, taskPatterns } = state.plan.selection;
  return JSON.stringify([shard?.count ?? null, taskPatterns]);
}

function describeSplit(state: RunState): string {
  const { shard, taskPatterns } = state.plan.selection;
  const part = shard ? `shard ${shard.index}/${shard.count}` : "not sharded";
  return taskPatterns.length === 0 ? part : `${part} of ${taskPatterns.join(", ")}`;
}

/** Throws when the states are shards of `n` and not every shard from 1 to `n` is among them. */
function refuseMissingShards(states: readonly RunState[]): void {
  const given = new Set<number>();
  let count: number | undefined;
  for (const state of states) {
    const shard = state.plan.selection.shard;
    if (!shard) continue;
    count = shard.count;
    given.add(shard.index);
  }
  if (count === undefined) return;
  const missing: string[] = [];
  for (let index = 1; index <= count; index++) {
    if (!given.has(index)) missing.push(`${index}/${count}`);
  }
  if (missing.length === 0) return;
  throw new StateError(
    `shard${missing.length === 1 ? "" : "s"} ${missing.join(", ")} of the plan ${missing.length === 1 ? "is" : "are"} missing: the folders given hold ${given.size} of its ${count} shards, so their report is not the whole run's`,
    {
      hint: "Give the run folder of every shard (a CI job that failed before conductor ran has none: run that shard again), or pass --partial to report only these shards.",
    },
  );
}

function worstStatus(statuses: readonly RunStatus[]): RunStatus {
  for (const status of STATUS_PRIORITY) if (statuses.includes(status)) return status;
  return "succeeded";
}

function earliest(times: readonly string[]): string {
  return times.reduce((min, time) => (Date.parse(time) < Date.parse(min) ? time : min));
}

function latest(times: readonly string[]): string {
  return times.reduce((max, time) => (Date.parse(time) > Date.parse(max) ? time : max));
}

function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
