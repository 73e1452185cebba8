import { runSpending } from "../executor/spending.js";
import type { RunState } from "../executor/types.js";
import { formatDuration } from "../schema/duration.js";
import {
  type BudgetLimits,
  type BudgetReached,
  describeReached,
  formatDollars,
  hasLimits,
  type Spending,
} from "../usage/budget.js";
import { formatTokens } from "../usage/usage.js";

/** Why a run stopped short: `budget` when its own budget was reached; otherwise nothing. */
export type RunReason = "budget" | null;

/**
 * Whether the run's own budget stopped it (in its latest session). A run whose every workspace
 * succeeded was not stopped, even when its last turn used the budget up.
 */
export function runReason(state: RunState): RunReason {
  return state.budgetReached?.run === undefined || state.status === "succeeded" ? null : "budget";
}

/**
 * `budget: 1.2k of 2k tokens · $0.01 of $1.00 · 3m05s of 10m agent time`: what the run spent
 * against its budget, with `— reached` once it was; undefined without a run budget or prices.
 */
export function budgetLine(state: RunState, now: Date): string | undefined {
  const budget = state.plan.budget;
  if (budget === undefined) return undefined;
  const spent = runSpending(state, now);
  const parts = spentAgainst(spent, budget.run, Object.keys(budget.prices).length > 0);
  if (parts.length === 0) return undefined;
  const reached = state.budgetReached?.run;
  const label = hasLimits(budget.run) ? "budget" : "spent";
  return `${label}: ${parts.join(" · ")}${reached === undefined ? "" : ` — reached: ${describeStop(reached)}`}`;
}

/**
 * `run budget 1.2k of 2k tokens`: the run's spending against its budget, short enough for a live
 * row; undefined without a run budget.
 */
export function budgetProgress(state: RunState, now: Date): string | undefined {
  const limits = state.plan.budget?.run;
  if (!hasLimits(limits)) return undefined;
  const reached = state.budgetReached?.run === undefined ? "" : " (reached)";
  return `run budget ${spentAgainst(runSpending(state, now), limits, false).join(", ")}${reached}`;
}

/** `1.2k of 2k tokens`, one part per limit (and the cost when prices are known). */
export function spentAgainst(
  spent: Spending,
  limits: BudgetLimits | undefined,
  priced: boolean,
): string[] {
  const parts: string[] = [];
  if (limits?.tokens !== undefined)
    parts.push(`${formatTokens(spent.tokens)} of ${formatTokens(limits.tokens)} tokens`);
  if (limits?.cost !== undefined || priced) {
    const cost = spent.cost === undefined ? "cost unknown" : formatDollars(spent.cost);
    parts.push(limits?.cost === undefined ? cost : `${cost} of ${formatDollars(limits.cost)}`);
  }
  if (limits?.agentTimeMs !== undefined)
    parts.push(
      `${formatDuration(spent.agentTimeMs)} of ${formatDuration(limits.agentTimeMs)} agent time`,
    );
  return parts;
}

/** `2.1k of 2k tokens`: the limit that stopped a run or task. */
export function describeStop(reached: BudgetReached): string {
  return describeReached(reached);
}
