import {
  judgesUsage,
  runSpending,
  spentUsage as spentOf,
  workspaceSpending,
} from "../executor/spending.js";
import { countWorkspaces } from "../executor/state-fold.js";
import {
  type DiffStat,
  type Failure,
  type ReviewFailure,
  type ReviewState,
  type RunSession,
  type RunState,
  type RunStatus,
  STEPS,
  type Step,
  type StepRecord,
  type WorkspaceState,
  type WorkspaceStatus,
} from "../executor/types.js";
import { runWorkedMs, stepWorkedMs, workspaceWorkedMs } from "../executor/worked-time.js";
import type { Shard } from "../planner/types.js";
import { type BudgetReached, type Spending, spendingOf } from "../usage/budget.js";
import type { TokenUsage } from "../usage/usage.js";
import { addUsage, NO_USAGE } from "../usage/usage.js";
import { type RunReason, runReason } from "./budget-view.js";
import { failureLogPath, totalTokens } from "./format.js";
import { describeSelection } from "./selection.js";

/** Version of the {@link RunSummary} JSON shape; bumped on any incompatible change. */
export const SUMMARY_FORMAT_VERSION = 1;

/** Token counts of a summary: the agent's usage plus its total (input + output). */
export interface TokenTotals extends TokenUsage {
  /** `inputTokens + outputTokens` (cached input and reasoning are already part of those). */
  totalTokens: number;
}

/** Why a workspace did not succeed, as a summary shows it. */
export interface SummaryFailure {
  reason: Failure["reason"];
  step: Step;
  message: string;
  /** Log of the failing step, when it wrote one. */
  logPath: string | null;
}

/** One step of a workspace in a {@link RunSummary}. */
export interface StepSummary {
  status: StepRecord["status"];
  /** Its latest execution. */
  durationMs: number | null;
  /** Every execution together (retries, resumes, follow-ups); a running one counts so far. */
  totalMs: number | null;
}

/** One session of a run: the run itself, a resume (`run --resume`) or a follow-up (`continue`). */
export interface SessionSummary {
  kind: RunSession["kind"];
  /** The workspace a follow-up continued. */
  workspace: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
}

/** One workspace in a {@link RunSummary}. Absent values are `null`, never missing keys. */
export interface WorkspaceSummary {
  name: string;
  /** Id of the task this workspace works on. */
  task: string;
  /** 1-based attempt (best-of-N). */
  attempt: number;
  /** Matrix cell; `{}` without a matrix. */
  matrix: Record<string, string>;
  branch: string;
  /** Absolute worktree path. */
  path: string;
  status: WorkspaceStatus;
  /** The step running now, or where the workspace stopped. */
  step: Step | null;
  /** How many times it was started (1 + retries used); 0 when it never started. */
  tries: number;
  failure: SummaryFailure | null;
  /** Time spent working on it, summed over sessions (a running one counts so far). */
  durationMs: number | null;
  /** Per step, `null` for a step that never ran. */
  steps: StepSummaries;
  /** Tokens of every agent turn of the workspace (tries, resumes, follow-ups), null when none reported. */
  tokens: TokenTotals | null;
  /** Dollars those tokens cost at the config's prices; null without a price for its model. */
  cost: number | null;
  /** Time its agent worked, every turn summed. */
  agentTimeMs: number;
  check: "passed" | "failed" | "none" | null;
  /** The branch's newest commit with work on it; null while the branch holds none. */
  commit: string | null;
  /** The branch against its start point. */
  diff: DiffStat | null;
  /** The latest review (`conductor review`, `review: auto`); null when never reviewed. */
  review: ReviewSummary | null;
}

/** A workspace's latest review in a {@link RunSummary}. */
export interface ReviewSummary {
  status: ReviewState["status"];
  reviewer: ReviewState["reviewer"];
  /** correct, incorrect or unknown; null when the review gave no answer. */
  verdict: ReviewState["verdict"] | null;
  /** Findings by priority, P0 first; null when the review gave no answer. */
  counts: [number, number, number, number] | null;
  /** The commit reviewed. */
  head: string | null;
  failure: { reason: ReviewFailure["reason"]; message: string } | null;
  finishedAt: string | null;
}

/**
 * The JSON summary of a run (`conductor report --format json`). A stable, versioned shape made only
 * of the fields listed here: no environment values, prompts or configuration, so it is safe to
 * upload from CI.
 */
export interface RunSummary {
  /** Version of this shape: {@link SUMMARY_FORMAT_VERSION}. */
  formatVersion: 1;
  runId: string;
  /** Hash of the plan the run executed (equal for every shard of one plan). */
  planHash: string;
  base: { ref: string; commit: string };
  status: RunStatus;
  /** ISO times. `finishedAt` is null while the run is going (or was killed). */
  createdAt: string;
  finishedAt: string | null;
  /** Which part of the plan the run covered. */
  selection: { taskPatterns: string[]; shard: Shard | null; totalWorkspaces: number };
  /** Why the run stopped short: `budget` when its budget was reached, else null. */
  reason: RunReason;
  /** Workspaces of the run by status. */
  counts: Record<WorkspaceStatus, number>;
  /** The run's budget, what was spent against it, and which budgets were reached; null without one. */
  budget: BudgetSummary | null;
  totals: {
    /** Tokens of every workspace together, and of the judges of best-of-N tasks (as budgets count them). */
    tokens: TokenTotals;
    /** Dollars at the config's prices; null when a model in use has no price. */
    cost: number | null;
    /** Time agents worked, every workspace's turns summed. */
    agentTimeMs: number;
    /**
     * Time spent working on the run: its sessions (run, resumes, follow-ups) summed, not the time
     * since it was created. Merged CI shards count from the first start to the last end.
     */
    durationMs: number;
    /** Sum of the workspaces' own durations: the work done, as if run one after another. */
    workspaceDurationMs: number;
  };
  /** Each time conductor worked on the run, in order. */
  sessions: SessionSummary[];
  /** In plan order. */
  workspaces: WorkspaceSummary[];
  /** Tasks that pick a winner among their workspaces, in plan order (absent when there are none). */
  selections?: SelectionSummary[];
}

/** A task's pick of a winner among its workspaces. */
export interface SelectionSummary {
  task: string;
  mode: "first-passing" | "best";
  candidates: string[];
  /** null until picked, or when no candidate passed. */
  winner: string | null;
  /** Whether it was picked at all yet. */
  picked: boolean;
  /** The branch the winner has now (the task's plain branch name), null when not renamed. */
  branch: string | null;
  manual: boolean;
  /** The criterion that decided: check, review, judge, diff, order, first-passing or manual. */
  decidedBy: string | null;
  /** Candidates best first, each with what it was ranked by. */
  ranking: { name: string; passed: boolean; summary: string }[];
  judge: { status: string; reasons: string | null; problem: string | null } | null;
  /** The line status shows: `winner: fix-2 — passed check, judge: "…"`. */
  description: string | null;
}

/**
 * Builds the JSON summary of a run from its state. Pure: what still runs is counted up to `now`
 * (default: the state's last update).
 */
export function buildRunSummary(state: RunState, now = new Date(state.updatedAt)): RunSummary {
  const workspaces = state.plan.workspaces
    .filter((planned) => state.workspaces[planned.name] !== undefined)
    .map((planned) => {
      const workspace = state.workspaces[planned.name] as WorkspaceState;
      return {
        name: workspace.name,
        task: planned.taskId,
        attempt: planned.attempt,
        matrix: { ...planned.matrix },
        branch: planned.branch,
        path: planned.path,
        status: workspace.status,
        step: workspace.step ?? null,
        tries: workspace.tries,
        failure: workspace.failure === undefined ? null : summaryFailure(workspace.failure),
        durationMs: workspaceWorkedMs(workspace, now) ?? null,
        steps: stepSummaries(workspace, now),
        tokens:
          spentOf(workspace) === undefined ? null : tokenTotals(spentOf(workspace) as TokenUsage),
        cost: workspaceCost(state, planned.name, now),
        agentTimeMs: stepWorkedMs(workspace.steps.agent, now) ?? 0,
        check: workspace.check ?? null,
        commit: workspace.commit ?? null,
        diff: workspace.diff === undefined ? null : { ...workspace.diff },
        review: workspace.review === undefined ? null : reviewSummary(workspace.review),
      } satisfies WorkspaceSummary;
    });
  const usage = Object.values(state.workspaces).reduce(
    (sum, workspace) => addUsage(sum, spentOf(workspace) ?? NO_USAGE),
    NO_USAGE,
  );
  const spent = runSpending(state, now);
  const { selection } = state.plan;
  return {
    formatVersion: SUMMARY_FORMAT_VERSION,
    runId: state.runId,
    planHash: state.plan.hash,
    base: { ref: state.plan.base.ref, commit: state.plan.base.commit },
    status: state.status,
    createdAt: state.createdAt,
    finishedAt: state.finishedAt ?? null,
    selection: {
      taskPatterns: [...selection.taskPatterns],
      shard: selection.shard === undefined ? null : { ...selection.shard },
      totalWorkspaces: selection.totalWorkspaces,
    },
    reason: runReason(state),
    counts: countWorkspaces(state),
    budget: budgetSummary(state, spent),
    totals: {
      tokens: tokenTotals(addUsage(usage, judgesUsage(state, now) ?? NO_USAGE)),
      cost: Object.keys(state.plan.budget?.prices ?? {}).length === 0 ? null : (spent.cost ?? null),
      agentTimeMs: spent.agentTimeMs,
      durationMs: runWorkedMs(state, now),
      workspaceDurationMs: workspaces.reduce((sum, w) => sum + (w.durationMs ?? 0), 0),
    },
    sessions: (state.sessions ?? []).map((session) => ({
      kind: session.kind,
      workspace: session.workspace ?? null,
      startedAt: session.startedAt,
      finishedAt: session.finishedAt ?? null,
      durationMs: session.durationMs ?? null,
    })),
    workspaces,
    ...selectionSummaries(state),
  };
}

function selectionSummaries(state: RunState): Pick<RunSummary, "selections"> {
  const planned = state.plan.selections ?? [];
  if (planned.length === 0) return {};
  return {
    selections: planned.map((selection) => {
      const record = state.selections?.[selection.taskId];
      return {
        task: selection.taskId,
        mode: selection.mode,
        candidates: selection.candidates.map((candidate) => candidate.name),
        winner: record?.winner ?? null,
        picked: record !== undefined,
        branch: record?.branch ?? null,
        manual: record?.manual ?? false,
        decidedBy: record?.ranking.decidedBy ?? null,
        ranking: (record?.ranking.candidates ?? []).map(({ name, passed, summary }) => ({
          name,
          passed,
          summary,
        })),
        judge:
          record?.judge === undefined
            ? null
            : {
                status: record.judge.status,
                reasons: record.judge.reasons ?? null,
                problem: record.judge.problem ?? null,
              },
        description: record === undefined ? null : describeSelection(record),
      };
    }),
  };
}

function reviewSummary(review: ReviewState): ReviewSummary {
  return {
    status: review.status,
    reviewer: review.reviewer,
    verdict: review.verdict ?? null,
    counts: review.counts === undefined ? null : [...review.counts],
    head: review.head ?? null,
    failure:
      review.failure === undefined
        ? null
        : { reason: review.failure.reason, message: review.failure.message },
    finishedAt: review.finishedAt ?? null,
  };
}

/** The summary as pretty JSON text, ending in a newline. */
export function renderRunSummary(state: RunState, now?: Date): string {
  return `${JSON.stringify(buildRunSummary(state, now), null, 2)}\n`;
}

/**
 * Every step by name (null when it never ran); `seed` only in runs with `workspaces.seed`, so
 * summaries of other runs keep their shape.
 */
export type StepSummaries = Record<Exclude<Step, "seed">, StepSummary | null> & {
  seed?: StepSummary | null;
};

function stepSummaries(workspace: WorkspaceState, now: Date): StepSummaries {
  const steps = {} as StepSummaries;
  for (const step of STEPS) {
    const record = workspace.steps[step];
    if (step === "seed" && record === undefined) continue;
    steps[step] =
      record === undefined
        ? null
        : {
            status: record.status,
            durationMs: record.durationMs ?? null,
            totalMs: stepWorkedMs(record, now) ?? null,
          };
  }
  return steps;
}

function summaryFailure(failure: Failure): SummaryFailure {
  return {
    reason: failure.reason,
    step: failure.step,
    message: failure.message,
    logPath: failureLogPath(failure) ?? null,
  };
}

/** A run's budget in a {@link RunSummary}; absent limits are null. */
export interface BudgetSummary {
  limits: { tokens: number | null; cost: number | null; agentTimeMs: number | null };
  /** What the run spent, in the same units. */
  spent: { tokens: number; cost: number | null; agentTimeMs: number };
  /** The run's limit that stopped it, if one did. */
  reached: BudgetReached | null;
  /** Tasks whose own budget was reached, by task id. */
  tasksReached: Record<string, BudgetReached>;
}

function budgetSummary(state: RunState, spent: Spending): BudgetSummary | null {
  const budget = state.plan.budget;
  if (budget === undefined) return null;
  const limits = budget.run;
  const plain = ({ limit, allowed, spent }: BudgetReached): BudgetReached => ({
    limit,
    allowed,
    spent,
  });
  return {
    limits: {
      tokens: limits?.tokens ?? null,
      cost: limits?.cost ?? null,
      agentTimeMs: limits?.agentTimeMs ?? null,
    },
    spent: { tokens: spent.tokens, cost: spent.cost ?? null, agentTimeMs: spent.agentTimeMs },
    reached: state.budgetReached?.run === undefined ? null : plain(state.budgetReached.run),
    tasksReached: Object.fromEntries(
      Object.entries(state.budgetReached?.tasks ?? {}).map(([task, reached]) => [
        task,
        plain(reached),
      ]),
    ),
  };
}

function workspaceCost(state: RunState, name: string, now: Date): number | null {
  if (Object.keys(state.plan.budget?.prices ?? {}).length === 0) return null;
  const planned = state.plan.workspaces.find((workspace) => workspace.name === name);
  if (planned === undefined) return null;
  const spending = spendingOf(
    [workspaceSpending(planned, state.workspaces[name], now)],
    state.plan.budget?.prices ?? {},
  );
  return spending.cost ?? null;
}

function tokenTotals(usage: TokenUsage): TokenTotals {
  return {
    inputTokens: usage.inputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    outputTokens: usage.outputTokens,
    reasoningTokens: usage.reasoningTokens,
    totalTokens: totalTokens(usage),
  };
}
