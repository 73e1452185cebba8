import type { Plan, Workspace } from "../planner/types.js";
import {
  type BudgetLimits,
  NOTHING_SPENT,
  type Spending,
  spendingOf,
  type WorkspaceSpending,
} from "../usage/budget.js";
import { addUsage, NO_USAGE, type TokenUsage } from "../usage/usage.js";
import type { RunState, WorkspaceState } from "./types.js";
import { judgeWorkedMs, stepWorkedMs } from "./worked-time.js";

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
      ...judgeSpending(state, workspaces, now),
    ],
    plan.budget?.prices ?? {},
  );
}

/** The tokens every judge session of the run used together (best-of-N tasks' tie-breakers). */
export function judgesUsage(state: RunState, now: Date): TokenUsage | undefined {
  return judgeSpending(state, state.plan.workspaces, now)
    .map((spent) => spent.usage)
    .reduce<TokenUsage | undefined>(
      (sum, usage) => (usage === undefined ? sum : addUsage(sum ?? NO_USAGE, usage)),
      undefined,
    );
}

/**
 * What the judges of the given workspaces' tasks spent, every session (those cut short too, the
 * running one up to `now`): a judge runs the agent of the first candidate it compares (its
 * model, its prices).
 */
function judgeSpending(
  state: RunState,
  workspaces: readonly Workspace[],
  now: Date,
): WorkspaceSpending[] {
  const modelOf = (asked: readonly string[]) =>
    workspaces.find((planned) => planned.name === asked[0])?.agent.model;
  const tasks = new Set(workspaces.map((planned) => planned.taskId));
  return [...tasks].flatMap((task) => {
    const sessions = state.judges?.[task];
    if (sessions !== undefined) {
      return sessions.map((session) => ({
        usage: session.usage,
        model: modelOf(session.asked),
        agentTimeMs: judgeWorkedMs(session, now),
      }));
    }
    // Runs recorded before judge sessions were kept have the deciding judge's on its selection.
    const judge = state.selections?.[task]?.judge;
    if (judge === undefined) return [];
    return [
      { usage: judge.usage, model: modelOf(judge.asked), agentTimeMs: judge.agentTimeMs ?? 0 },
    ];
  });
}

/** The budget that applies to a task's workspaces besides the run's, if it has one. */
export function taskBudget(plan: Plan, taskId: string): BudgetLimits | undefined {
  return plan.budget?.tasks[taskId];
}
