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
 * cut short (by a budget, Ctrl-C, a timeout) would make the task look cheaper than it is. Then
 * the judge sessions of its best-of-N tasks that ended and reported what they spent.
 */
export function samplesOf(state: RunState): SpentSample[] {
  return [...workspaceSamples(state), ...judgeSamples(state)];
}

function workspaceSamples(state: RunState): SpentSample[] {
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

/** The run's ended judge sessions, under their task and its first candidate's prompt. */
function judgeSamples(state: RunState): SpentSample[] {
  return Object.entries(state.judges ?? {}).flatMap(([taskId, sessions]) => {
    const first = state.plan.selections?.find((selection) => selection.taskId === taskId)
      ?.candidates[0]?.name;
    const prompt = state.plan.workspaces.find((workspace) => workspace.name === first)?.prompt;
    if (prompt === undefined) return [];
    return sessions.flatMap((session): SpentSample[] =>
      session.usage === undefined || session.agentTimeMs === undefined
        ? []
        : [
            {
              taskId,
              promptHash: promptHash(prompt),
              usage: session.usage,
              agentTimeMs: session.agentTimeMs,
              judge: true,
            },
          ],
    );
  });
}
