/**
 * Budget accounting: what tokens cost, what a run or task has spent, and which limit it reached.
 * Pure: the executor enforces what this decides, reporters show it.
 */
import { formatDuration } from "../schema/duration.js";
import { formatTokens, type TokenUsage, totalTokens } from "./usage.js";

/** Prices of one model in dollars per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Cached input tokens; the input price when the config does not say. */
  cachedInput: number;
}

/** Prices by model name, as `prices:` in the config gives them. */
export type Prices = Readonly<Record<string, ModelPrice>>;

/** The limits of one budget; an absent limit is not enforced. */
export interface BudgetLimits {
  /** Input + output tokens, as the agents report them. */
  tokens?: number;
  /** Dollars, from the tokens and `prices`. */
  cost?: number;
  /** Time agents spent working (their steps summed, running ones so far), in milliseconds. */
  agentTimeMs?: number;
}

/** The kinds of limit a budget can have, as the config names them. */
export type BudgetLimitKind = "tokens" | "cost" | "agent_time";

/** What was spent, in every unit a budget can limit. */
export interface Spending {
  tokens: number;
  /** Dollars; undefined when a model in use has no price. */
  cost: number | undefined;
  agentTimeMs: number;
}

/** Nothing spent. */
export const NOTHING_SPENT: Spending = { tokens: 0, cost: 0, agentTimeMs: 0 };

/** One workspace's share of the spending: its tokens, the model they were spent on, its agent time. */
export interface WorkspaceSpending {
  usage: TokenUsage | undefined;
  model: string | undefined;
  agentTimeMs: number;
}

/** A limit that was reached: which one, its value and what was spent. */
export interface BudgetReached {
  limit: BudgetLimitKind;
  /** The limit as configured (tokens, dollars or milliseconds). */
  allowed: number;
  /** What was spent in the same unit. */
  spent: number;
}

/** Dollars a usage costs at a model's price (cached input at its own price). */
export function costOf(usage: TokenUsage, price: ModelPrice): number {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const uncached = usage.inputTokens - cached;
  return (
    (uncached * price.input + cached * price.cachedInput + usage.outputTokens * price.output) / 1e6
  );
}

/** Sums workspaces' spending; the cost is undefined if a workspace with tokens has no price. */
export function spendingOf(workspaces: readonly WorkspaceSpending[], prices: Prices): Spending {
  let tokens = 0;
  let cost: number | undefined = 0;
  let agentTimeMs = 0;
  for (const workspace of workspaces) {
    agentTimeMs += workspace.agentTimeMs;
    if (workspace.usage === undefined) continue;
    tokens += totalTokens(workspace.usage);
    const price = workspace.model === undefined ? undefined : prices[workspace.model];
    if (price === undefined) {
      if (totalTokens(workspace.usage) > 0) cost = undefined;
    } else if (cost !== undefined) {
      cost += costOf(workspace.usage, price);
    }
  }
  return { tokens, cost, agentTimeMs };
}

/**
 * The first limit the spending reached (tokens, then cost, then agent time), or undefined. A limit
 * is reached when the spending is at or over it: at the limit, no new turn could stay under it.
 */
export function reachedLimit(limits: BudgetLimits, spent: Spending): BudgetReached | undefined {
  if (limits.tokens !== undefined && spent.tokens >= limits.tokens)
    return { limit: "tokens", allowed: limits.tokens, spent: spent.tokens };
  if (limits.cost !== undefined && spent.cost !== undefined && spent.cost >= limits.cost)
    return { limit: "cost", allowed: limits.cost, spent: spent.cost };
  if (limits.agentTimeMs !== undefined && spent.agentTimeMs >= limits.agentTimeMs)
    return { limit: "agent_time", allowed: limits.agentTimeMs, spent: spent.agentTimeMs };
  return undefined;
}

/** Whether a budget limits anything at all. */
export function hasLimits(limits: BudgetLimits | undefined): limits is BudgetLimits {
  return (
    limits !== undefined &&
    (limits.tokens !== undefined || limits.cost !== undefined || limits.agentTimeMs !== undefined)
  );
}

/**
 * Milliseconds of agent time left before the limit, with `running` agents working at once; undefined
 * when agent time is not limited or nothing runs. The executor wakes up then to check again.
 */
export function agentTimeLeftMs(
  limits: BudgetLimits,
  spent: Spending,
  running: number,
): number | undefined {
  if (limits.agentTimeMs === undefined || running === 0) return undefined;
  return Math.max(0, (limits.agentTimeMs - spent.agentTimeMs) / running);
}

/** A limit's value for people: `12.3k tokens`, `$1.50`, `4m05s` of agent time. */
export function formatLimitValue(kind: BudgetLimitKind, value: number): string {
  switch (kind) {
    case "tokens":
      return `${formatTokens(value)} tokens`;
    case "cost":
      return formatDollars(value);
    case "agent_time":
      return `${formatDuration(value)} of agent time`;
  }
}

/** Dollars for people: `$0.0042`, `$1.50`. */
export function formatDollars(value: number): string {
  return value > 0 && value < 0.01 ? `$${value.toPrecision(2)}` : `$${value.toFixed(2)}`;
}

/** `1.2k of 2k tokens`: what was spent against a reached limit. */
export function describeReached(reached: BudgetReached): string {
  const allowed = formatLimitValue(reached.limit, reached.allowed);
  switch (reached.limit) {
    case "tokens":
      return `${formatTokens(reached.spent)} of ${allowed}`;
    case "cost":
      return `${formatDollars(reached.spent)} of ${allowed}`;
    case "agent_time":
      return `${formatDuration(reached.spent)} of ${allowed}`;
  }
}
