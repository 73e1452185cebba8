import type { Plan, Workspace } from "../planner/types.js";
import {
  type BudgetLimits,
  NOTHING_SPENT,
  type Spending,
  spendingOf,
  type WorkspaceSpending,
} from "../usage/budget.js";
import type { TokenUsage } from "../usage/usage.js";
import type { RunState, WorkspaceState } from "./types.js";
import { stepWorkedMs } from "./worked-time.js";

/**
 * What a run and its tasks spent, read from the run state: tokens of every agent turn (tries,
 * resumes and follow-ups; sessions of earlier conductor processes too), their cost at the plan's
 * prices, and the agents' working time, a running turn counted up to `now`.
 */

/** The tokens a workspace's agents used over all their turns. */
export function spentUsage(workspace: WorkspaceState | undefined): TokenUsage | undefined {
  return workspace?.agent.spent ?? workspace?.agent.usage;
}

/** One workspace's spending, for {@link spendingOf}. */
export function workspaceSpending(
  planned: Workspace,
  workspace: WorkspaceState | undefined,
  now: Date,
): WorkspaceSpending {
  return {
    usage: spentUsage(workspace),
    model: planned.agent.model,
    agentTimeMs: stepWorkedMs(workspace?.steps.agent, now) ?? 0,
  };
}

/** What the workspaces of the plan (or of one task) spent together, their tasks' judges included. */
export function runSpending(state: RunState, now: Date, taskId?: string): Spending {
  const plan: Plan = state.plan;
  const workspaces = plan.workspaces.filter(
    (planned) => taskId === undefined || planned.taskId === taskId,
  );
  if (workspaces.length === 0) return NOTHING_SPENT;
  return spendingOf(
    [
      ...workspaces.map((planned) =>
        workspaceSpending(planned, state.workspaces[planned.name], now),
      ),
      ...judgeSpending(state, workspaces),
    ],
    plan.budget?.prices ?? {},
  );
}

/**
 * What the judges of the given workspaces' tasks spent: a judge session runs the agent of the
 * first candidate it compares (its model, its prices), once per pick the run made.
 */
function judgeSpending(state: RunState, workspaces: readonly Workspace[]): WorkspaceSpending[] {
  const tasks = new Set(workspaces.map((planned) => planned.taskId));
  return Object.values(state.selections ?? {}).flatMap((selection) => {
    const judge = selection.judge;
    if (!tasks.has(selection.task) || judge === undefined) return [];
    if (judge.usage === undefined && judge.agentTimeMs === undefined) return [];
    // The judge runs the agent of the first candidate it was asked about.
    const model = workspaces.find((planned) => planned.name === judge.asked[0])?.agent.model;
    return [{ usage: judge.usage, model, agentTimeMs: judge.agentTimeMs ?? 0 }];
  });
}

/** The budget that applies to a task's workspaces besides the run's, if it has one. */
export function taskBudget(plan: Plan, taskId: string): BudgetLimits | undefined {
  return plan.budget?.tasks[taskId];
}
