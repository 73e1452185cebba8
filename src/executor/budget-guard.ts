import type { Plan, Workspace } from "../planner/types.js";
import {
  agentTimeLeftMs,
  type BudgetLimitKind,
  type BudgetLimits,
  type BudgetReached,
  describeReached,
  hasLimits,
  reachedLimit,
} from "../usage/budget.js";
import type { RunRecorder } from "./recorder.js";
import { runSpending } from "./spending.js";
import type { BudgetScope, Failure, RunState, Step } from "./types.js";

/** The abort reason of a workspace whose agent turn a budget stopped. */
export class BudgetStop {
  constructor(
    readonly scope: BudgetScope,
    readonly task: string | undefined,
    readonly reached: BudgetReached,
  ) {}

  /** `the run's token budget is spent (2.1k of 2k tokens)`. */
  get description(): string {
    const whose = this.scope === "run" ? "the run's" : `task ${this.task}'s`;
    return `${whose} ${LIMIT_NAMES[this.reached.limit]} budget is spent (${describeReached(this.reached)})`;
  }
}

const LIMIT_NAMES: Record<BudgetLimitKind, string> = {
  tokens: "token",
  cost: "cost",
  agent_time: "agent time",
};

/** The budget that stopped an agent session, when `signal` was aborted by one. */
export function budgetStopOf(signal: AbortSignal): BudgetStop | undefined {
  const stop: unknown = signal.reason;
  return stop instanceof BudgetStop ? stop : undefined;
}

/** The failure of a workspace stopped by a budget, when `signal` was aborted by one. */
export function budgetFailureOf(signal: AbortSignal, step: Step): Failure | undefined {
  const stop = budgetStopOf(signal);
  return stop === undefined ? undefined : budgetFailure(stop, step, "stopped");
}

function budgetFailure(stop: BudgetStop, step: Step, how: "stopped" | "refused"): Failure {
  const message =
    how === "refused"
      ? `not started: ${stop.description}`
      : `${step} stopped after the grace period: ${stop.description}; its work is kept in the worktree`;
  return { reason: "budget", step, message, limit: stop.reached.limit, scope: stop.scope };
}

/**
 * Enforces the plan's budgets during a session. Checked whenever an agent reports usage, when an
 * agent turn is about to start, and (for agent time) when the time left runs out. Once a budget
 * is reached it emits `budget.reached`, refuses new agent turns in its scope, and after the grace
 * period aborts the workspaces still in an agent turn, through their own signal, the way Ctrl-C
 * aborts them: the step ends cancelled and the work stays in the worktree. A best-of-N task's
 * judge is an agent session of its task like any other and is stopped the same way.
 */
export class BudgetGuard {
  private readonly reached = new Map<string, BudgetStop>();
  private readonly attached = new Map<string, { workspace: Workspace; stop: AbortController }>();
  /** The abort controllers of the judges at work, by task. */
  private readonly judges = new Map<string, AbortController>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private timeCheck: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly recorder: RunRecorder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private get plan(): Plan {
    return this.recorder.state.plan;
  }

  /** Whether the run's own budget is reached: nothing new starts. */
  get runStopped(): boolean {
    return this.reached.has(RUN_KEY);
  }

  /** A workspace's own abort controller, aborted with a {@link BudgetStop} when its turn must end. */
  attach(workspace: Workspace, stop: AbortController): void {
    this.attached.set(workspace.name, { workspace, stop });
  }

  /** The workspace no longer runs. */
  detach(workspace: Workspace): void {
    this.attached.delete(workspace.name);
  }

  /** The abort controller of a task's judge, aborted with a {@link BudgetStop} when it must end. */
  attachJudge(task: string, stop: AbortController): void {
    this.judges.set(task, stop);
  }

  /** The task's judge no longer runs. */
  detachJudge(task: string): void {
    this.judges.delete(task);
  }

  /** Why a workspace may not start an agent turn now (its budget or the run's is spent). */
  refusal(workspace: Workspace, step: Step): Failure | undefined {
    const stop = this.spentFor(workspace.taskId);
    return stop === undefined ? undefined : budgetFailure(stop, step, "refused");
  }

  /** The budget, the run's or the task's, that forbids a new agent session for `task` now. */
  spentFor(task: string): BudgetStop | undefined {
    this.check();
    return this.reached.get(RUN_KEY) ?? this.reached.get(taskKey(task));
  }

  /**
   * Compares what was spent with every budget; a newly reached one is recorded and its running
   * turns are given the grace period.
   */
  check(): void {
    if (this.disposed) return;
    const plan = this.plan;
    const budget = plan.budget;
    if (budget === undefined) return;
    const state = this.recorder.state;
    const now = this.now();
    const scopes: [string, BudgetLimits | undefined, string | undefined][] = [
      [RUN_KEY, budget.run, undefined],
      ...Object.entries(budget.tasks).map(([task, limits]): [string, BudgetLimits, string] => [
        taskKey(task),
        limits,
        task,
      ]),
    ];
    let nextTimeCheck: number | undefined;
    for (const [key, limits, task] of scopes) {
      if (!hasLimits(limits) || this.reached.has(key)) continue;
      const spent = runSpending(state, now, task);
      const reached = reachedLimit(limits, spent);
      if (reached === undefined) {
        const left = agentTimeLeftMs(limits, spent, runningAgents(state, plan, task));
        if (left !== undefined) nextTimeCheck = Math.min(nextTimeCheck ?? left, left);
        continue;
      }
      const stop = new BudgetStop(task === undefined ? "run" : "task", task, reached);
      this.reached.set(key, stop);
      this.recorder.emit({
        type: "budget.reached",
        scope: stop.scope,
        ...(task === undefined ? {} : { task }),
        reached,
        graceMs: budget.graceMs,
      });
      this.later(budget.graceMs, () => this.stopRunningTurns(stop));
    }
    this.armTimeCheck(nextTimeCheck);
  }

  /** Cancels timers; the session is over. */
  dispose(): void {
    this.disposed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.timeCheck !== undefined) clearTimeout(this.timeCheck);
  }

  private stopRunningTurns(stop: BudgetStop): void {
    for (const { workspace, stop: controller } of this.attached.values()) {
      if (stop.scope === "task" && workspace.taskId !== stop.task) continue;
      // A workspace past its agent turn (checking, committing) finishes: its tokens are spent.
      const current = this.recorder.state.workspaces[workspace.name];
      if (current?.status === "running" && current.step === "agent") controller.abort(stop);
    }
    for (const [task, controller] of this.judges) {
      if (stop.scope === "run" || task === stop.task) controller.abort(stop);
    }
  }

  /** Agent time runs out while nothing reports: look again when the time left is used up. */
  private armTimeCheck(leftMs: number | undefined): void {
    if (this.timeCheck !== undefined) clearTimeout(this.timeCheck);
    this.timeCheck = undefined;
    if (leftMs === undefined) return;
    this.timeCheck = setTimeout(() => this.check(), Math.ceil(leftMs) + 5);
    this.timeCheck.unref();
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.disposed) action();
    }, ms);
    this.timers.add(timer);
  }
}

const RUN_KEY = "run";

function taskKey(task: string): string {
  return `task:${task}`;
}

/** Agents (of one task, or all) working right now: in workspaces, and judges. */
function runningAgents(state: RunState, plan: Plan, task: string | undefined): number {
  const inWorkspaces = plan.workspaces.filter((planned) => {
    if (task !== undefined && planned.taskId !== task) return false;
    const workspace = state.workspaces[planned.name];
    return workspace?.status === "running" && workspace.step === "agent";
  }).length;
  const judges = Object.entries(state.judges ?? {})
    .filter(([judged]) => task === undefined || judged === task)
    .flatMap(([, sessions]) => sessions)
    .filter((session) => session.agentTimeMs === undefined).length;
  return inWorkspaces + judges;
}
