import type { SpentSample } from "../planner/estimate.js";
import { promptHash } from "../planner/estimate.js";
import { loadRun } from "./load-run.js";
import { listRunIds } from "./run-store.js";
import { spentUsage } from "./spending.js";
import type { RunState } from "./types.js";
import { stepWorkedMs } from "./worked-time.js";

/**
 * What every workspace of the earlier runs in `.conductor/runs` spent, for `plan --estimate`.
 * A run folder that cannot be read is left out: an estimate is no reason to fail.
 */
export async function spentHistory(root: string): Promise<SpentSample[]> {
  const samples: SpentSample[] = [];
  for (const runId of listRunIds(root)) {
    let state: RunState;
    try {
      state = await loadRun(root, runId);
    } catch {
      continue;
    }
    samples.push(...samplesOf(state));
  }
  return samples;
}

/**
 * The workspaces of one run whose agent finished its turn and reported what it spent: a turn
 * cut short (by a budget, Ctrl-C, a timeout) would make the task look cheaper than it is.
 */
export function samplesOf(state: RunState): SpentSample[] {
  const now = new Date(state.updatedAt);
  return state.plan.workspaces.flatMap((planned) => {
    const workspace = state.workspaces[planned.name];
    const usage = spentUsage(workspace);
    if (workspace?.steps.agent?.status !== "succeeded" || usage === undefined) return [];
    return [
      {
        taskId: planned.taskId,
        promptHash: promptHash(planned.prompt),
        usage,
        agentTimeMs: stepWorkedMs(workspace.steps.agent, now) ?? 0,
      },
    ];
  });
}
