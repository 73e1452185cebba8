import { type Prices, spendingOf } from "../usage/budget.js";
import { addUsage, NO_USAGE, type TokenUsage } from "../usage/usage.js";
import { contentHash } from "./hash.js";
import type { Plan, Workspace } from "./types.js";

/** What one workspace of an earlier run spent: the history `plan --estimate` works from. */
export interface SpentSample {
  taskId: string;
  /** {@link promptHash} of the workspace's prompt. */
  promptHash: string;
  usage: TokenUsage;
  agentTimeMs: number;
}

/** One workspace of the plan, estimated from earlier workspaces of the same task and prompt. */
export interface WorkspaceEstimate {
  name: string;
  /** How many earlier workspaces it is estimated from; 0: no history. */
  samples: number;
  /** Their averages; undefined without history. */
  tokens: number | undefined;
  /** Dollars at the plan's prices; undefined without history or without a price. */
  cost: number | undefined;
  agentTimeMs: number | undefined;
}

/** The expected spending of a plan (`conductor plan --estimate`). */
export interface PlanEstimate {
  workspaces: WorkspaceEstimate[];
  /** How many of the plan's workspaces have history. */
  withHistory: number;
  /** Sums over the workspaces with history. */
  tokens: number;
  /** Undefined when some estimated workspace has no price. */
  cost: number | undefined;
  agentTimeMs: number;
  /** Rough wall-clock time of the agents: their time spread over the concurrency, at least the longest. */
  wallMs: number;
}

/** The hash that tells whether an earlier workspace did the same work: its prompt's. */
export function promptHash(prompt: string): string {
  return contentHash({ prompt }).slice(0, 16);
}

/**
 * Estimates a plan from earlier workspaces of the same task id and prompt: each workspace is
 * expected to spend what they spent on average. Pure.
 */
export function estimatePlan(
  plan: Plan,
  history: readonly SpentSample[],
  concurrency: number,
): PlanEstimate {
  const prices: Prices = plan.budget?.prices ?? {};
  const workspaces = plan.workspaces.map((workspace) =>
    estimateWorkspace(workspace, history, prices),
  );
  const known = workspaces.filter((estimate) => estimate.samples > 0);
  const agentTimeMs = known.reduce((sum, estimate) => sum + (estimate.agentTimeMs ?? 0), 0);
  const longest = Math.max(0, ...known.map((estimate) => estimate.agentTimeMs ?? 0));
  return {
    workspaces,
    withHistory: known.length,
    tokens: known.reduce((sum, estimate) => sum + (estimate.tokens ?? 0), 0),
    cost: known.some((estimate) => estimate.cost === undefined)
      ? undefined
      : known.reduce((sum, estimate) => sum + (estimate.cost ?? 0), 0),
    agentTimeMs,
    wallMs: Math.max(longest, agentTimeMs / Math.max(1, concurrency)),
  };
}

function estimateWorkspace(
  workspace: Workspace,
  history: readonly SpentSample[],
  prices: Prices,
): WorkspaceEstimate {
  const hash = promptHash(workspace.prompt);
  const same = history.filter(
    (sample) => sample.taskId === workspace.taskId && sample.promptHash === hash,
  );
  if (same.length === 0) {
    return {
      name: workspace.name,
      samples: 0,
      tokens: undefined,
      cost: undefined,
      agentTimeMs: undefined,
    };
  }
  const sum = same.reduce((total, sample) => addUsage(total, sample.usage), NO_USAGE);
  const mean: TokenUsage = {
    inputTokens: sum.inputTokens / same.length,
    cachedInputTokens: sum.cachedInputTokens / same.length,
    outputTokens: sum.outputTokens / same.length,
    reasoningTokens: sum.reasoningTokens / same.length,
  };
  const agentTimeMs = same.reduce((total, sample) => total + sample.agentTimeMs, 0) / same.length;
  const spent = spendingOf([{ usage: mean, model: workspace.agent.model, agentTimeMs }], prices);
  return {
    name: workspace.name,
    samples: same.length,
    tokens: Math.round(spent.tokens),
    cost: spent.cost,
    agentTimeMs: Math.round(agentTimeMs),
  };
}
