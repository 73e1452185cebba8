import type { PlanEstimate, WorkspaceEstimate } from "../planner/estimate.js";
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
  const sessions = sessionsLine(plan, estimate);
  if (estimate.withHistory === 0 && estimate.judgesWithHistory === 0) {
    return `estimate: no history: no earlier run in .conductor/runs worked on these tasks with the same prompts\n${sessions}`;
  }
  const priced = Object.keys(plan.budget?.prices ?? {}).length > 0;
  const money = (cost: number | undefined) =>
    cost === undefined ? (priced ? "no price" : "-") : formatDollars(cost);
  const row = (name: string, session: Omit<WorkspaceEstimate, "name">) =>
    session.samples === 0
      ? [name, "no history", "-", "-", "-"]
      : [
          name,
          `${session.samples} earlier`,
          formatTokens(session.tokens ?? 0),
          money(session.cost),
          formatDuration(session.agentTimeMs ?? 0),
        ];
  const rows = [
    ["WORKSPACE", "FROM", "TOKENS", "COST", "AGENT TIME"],
    ...estimate.workspaces.map((workspace) => row(workspace.name, workspace)),
    ...estimate.judges.map((judge) => row(`judge of ${judge.taskId}`, judge)),
  ];
  const of = plan.workspaces.length + estimate.judges.length;
  const known = estimate.withHistory + estimate.judgesWithHistory;
  const what = estimate.judges.length === 0 ? "workspaces" : "agent sessions";
  const partial = known === of ? "" : ` (${known} of ${of} ${what}; the others have no history)`;
  const total =
    `expected${partial}: ${formatTokens(estimate.tokens)} tokens, ${money(estimate.cost)}, ` +
    `${formatDuration(estimate.agentTimeMs)} of agent time, about ${formatDuration(estimate.wallMs)} at concurrency ${concurrency}`;
  return `\nestimate from earlier runs of the same tasks and prompts:\n${renderTable(rows)}\n${total}\n${sessions}${budgetComparison(plan, estimate)}`;
}

/**
 * How many agent sessions the estimate counts, when best-of-N judges are among them: a run
 * spends on its judges too, and the budgets count them.
 */
function sessionsLine(plan: Plan, estimate: PlanEstimate): string {
  const judges = estimate.judges.length;
  if (judges === 0) return "";
  const workspaces = plan.workspaces.length;
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
  return (
    `agent sessions: ${count(workspaces + judges, "session")}, ${count(workspaces, "workspace")} and ` +
    `${count(judges, "best-of-N judge")} (at most one per task with select: best, asked when its passing candidates tie); the estimate includes the judges\n`
  );
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
