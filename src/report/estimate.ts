import type { PlanEstimate } from "../planner/estimate.js";
import type { Plan } from "../planner/types.js";
import { formatDuration } from "../schema/duration.js";
import { formatDollars, hasLimits } from "../usage/budget.js";
import { formatTokens } from "../usage/usage.js";
import { renderTable } from "./table.js";

/**
 * `conductor plan --estimate` as text: per workspace what earlier runs of the same task and
 * prompt spent, the plan's total, and how it compares with the run's budget.
 */
export function renderEstimate(plan: Plan, estimate: PlanEstimate, concurrency: number): string {
  if (estimate.withHistory === 0) {
    return "estimate: no history: no earlier run in .conductor/runs worked on these tasks with the same prompts\n";
  }
  const priced = Object.keys(plan.budget?.prices ?? {}).length > 0;
  const money = (cost: number | undefined) =>
    cost === undefined ? (priced ? "no price" : "-") : formatDollars(cost);
  const rows = [
    ["WORKSPACE", "FROM", "TOKENS", "COST", "AGENT TIME"],
    ...estimate.workspaces.map((workspace) =>
      workspace.samples === 0
        ? [workspace.name, "no history", "-", "-", "-"]
        : [
            workspace.name,
            `${workspace.samples} earlier`,
            formatTokens(workspace.tokens ?? 0),
            money(workspace.cost),
            formatDuration(workspace.agentTimeMs ?? 0),
          ],
    ),
  ];
  const of = plan.workspaces.length;
  const partial =
    estimate.withHistory === of
      ? ""
      : ` (${estimate.withHistory} of ${of} workspaces; the others have no history)`;
  const total =
    `expected${partial}: ${formatTokens(estimate.tokens)} tokens, ${money(estimate.cost)}, ` +
    `${formatDuration(estimate.agentTimeMs)} of agent time, about ${formatDuration(estimate.wallMs)} at concurrency ${concurrency}`;
  return `\nestimate from earlier runs of the same tasks and prompts:\n${renderTable(rows)}\n${total}\n${budgetComparison(plan, estimate)}`;
}

/** `budget: 4k tokens — the estimate fits` or `… is over it`; nothing without a run budget. */
function budgetComparison(plan: Plan, estimate: PlanEstimate): string {
  const limits = plan.budget?.run;
  if (!hasLimits(limits)) return "";
  const parts: string[] = [];
  if (limits.tokens !== undefined)
    parts.push(
      `${formatTokens(limits.tokens)} tokens${estimate.tokens > limits.tokens ? " (estimate over it)" : ""}`,
    );
  if (limits.cost !== undefined)
    parts.push(
      `${formatDollars(limits.cost)}${estimate.cost !== undefined && estimate.cost > limits.cost ? " (estimate over it)" : ""}`,
    );
  if (limits.agentTimeMs !== undefined)
    parts.push(
      `${formatDuration(limits.agentTimeMs)} of agent time${estimate.agentTimeMs > limits.agentTimeMs ? " (estimate over it)" : ""}`,
    );
  return `budget: ${parts.join(", ")}\n`;
}
