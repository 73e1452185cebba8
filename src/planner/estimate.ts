import { type Prices, spendingOf } from "../usage/budget.js";
import { addUsage, NO_USAGE, type TokenUsage } from "../usage/usage.js";
import { contentHash } from "./hash.js";
import type { Plan, TaskSelection, Workspace } from "./types.js";

/**
 * What one workspace, or one best-of-N judge, of an earlier run spent: the history
 * `plan --estimate` works from.
 */
export interface SpentSample {
  taskId: string;
  /** {@link promptHash} of the workspace's prompt; for a judge, of its task's first candidate's. */
  promptHash: string;
  usage: TokenUsage;
  agentTimeMs: number;
  /** A judge session of the task's best-of-N pick, not a workspace's agent. */
  judge?: true;
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

/**
 * The judge session a best-of-N task (`select: best`) may start once its candidates finish,
 * estimated from earlier judges of the same task and prompt. One per such task: the judge is
 * asked when passing candidates are still tied, at most once a run.
 */
export interface JudgeEstimate {
  taskId: string;
  /** How many earlier judge sessions it is estimated from; 0: no history. */
  samples: number;
  tokens: number | undefined;
  cost: number | undefined;
  agentTimeMs: number | undefined;
}

/** The expected spending of a plan (`conductor plan --estimate`). */
export interface PlanEstimate {
  workspaces: WorkspaceEstimate[];
  /** The judge sessions the plan's best-of-N tasks may start; counted in the sums below. */
  judges: JudgeEstimate[];
  /** How many of the plan's workspaces have history. */
  withHistory: number;
  /** How many of {@link judges} have history. */
  judgesWithHistory: number;
  /** Sums over the workspaces and judges with history. */
  tokens: number;
  /** Undefined when some estimated workspace has no price. */
  cost: number | undefined;
  agentTimeMs: number;
  /**
   * Rough wall-clock time of the agents: their time spread over the concurrency, at least the
   * longest workspace and the longest judge after it (a judge starts once its candidates finish).
   */
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
  const workspaceHistory = history.filter((sample) => sample.judge !== true);
  const judgeHistory = history.filter((sample) => sample.judge === true);
  const workspaces = plan.workspaces.map((workspace) =>
    estimateWorkspace(workspace, workspaceHistory, prices),
  );
  const judges = judgedSelections(plan).map(({ selection, first }) => ({
    taskId: selection.taskId,
    ...estimateSession(first, judgeHistory, prices),
  }));
  const known = [...workspaces, ...judges].filter((estimate) => estimate.samples > 0);
  const agentTimeMs = known.reduce((sum, estimate) => sum + (estimate.agentTimeMs ?? 0), 0);
  const longest = (estimates: readonly { samples: number; agentTimeMs: number | undefined }[]) =>
    Math.max(0, ...estimates.filter((e) => e.samples > 0).map((e) => e.agentTimeMs ?? 0));
  return {
    workspaces,
    judges,
    withHistory: workspaces.filter((estimate) => estimate.samples > 0).length,
    judgesWithHistory: judges.filter((estimate) => estimate.samples > 0).length,
    tokens: known.reduce((sum, estimate) => sum + (estimate.tokens ?? 0), 0),
    cost: known.some((estimate) => estimate.cost === undefined)
      ? undefined
      : known.reduce((sum, estimate) => sum + (estimate.cost ?? 0), 0),
    agentTimeMs,
    wallMs: Math.max(longest(workspaces) + longest(judges), agentTimeMs / Math.max(1, concurrency)),
  };
}

/**
 * The best-of-N tasks of the plan that may start a judge, with the candidate whose agent it runs
 * (the first: its model and prices): `select: best` among two or more candidates, whose agent
 * can judge (a command agent only with `agent.judge_command`), as the executor's pick decides.
 */
export function judgedSelections(plan: Plan): { selection: TaskSelection; first: Workspace }[] {
  return (plan.selections ?? []).flatMap((selection) => {
    if (selection.mode !== "best" || selection.candidates.length < 2) return [];
    const name = selection.candidates[0]?.name;
    const first = plan.workspaces.find((workspace) => workspace.name === name);
    if (first === undefined) return [];
    if (first.agent.kind === "command" && first.agent.judgeCommand === undefined) return [];
    return [{ selection, first }];
  });
}

function estimateWorkspace(
  workspace: Workspace,
  history: readonly SpentSample[],
  prices: Prices,
): WorkspaceEstimate {
  return { name: workspace.name, ...estimateSession(workspace, history, prices) };
}

/** One agent session of `workspace`'s task and prompt (its own, or its judge's) from `history`. */
function estimateSession(
  workspace: Workspace,
  history: readonly SpentSample[],
  prices: Prices,
): Omit<WorkspaceEstimate, "name"> {
  const hash = promptHash(workspace.prompt);
  const same = history.filter(
    (sample) => sample.taskId === workspace.taskId && sample.promptHash === hash,
  );
  if (same.length === 0) {
    return { samples: 0, tokens: undefined, cost: undefined, agentTimeMs: undefined };
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
    samples: same.length,
    tokens: Math.round(spent.tokens),
    cost: spent.cost,
    agentTimeMs: Math.round(agentTimeMs),
  };
}
