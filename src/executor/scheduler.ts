import { setMaxListeners } from "node:events";
import type { TaskSelection, Workspace } from "../planner/types.js";
import { monotonicMs } from "../timers/monotonic.js";
import { credentialsRejected } from "./failure.js";
import { selectionReady } from "./selection/facts.js";
import { pickWinner } from "./selection/pick-winner.js";
import { SlotGate, type SlotRefusal, type SlotVerdict } from "./slot-gate.js";
import { candidatesWithWinner, countWorkspaces } from "./state-fold.js";
import type { Failure, RunState, RunStatus, Step, WorkspaceStatus } from "./types.js";
import { type RunContext, runWorkspace, type WorkspaceSlot } from "./workspace-runner.js";

/** How a run reacts to the first failed workspace (`fail_fast` / `--fail-fast`). */
export type FailureMode =
  /** Keep going: other workspaces are independent. */
  | "continue"
  /** Start nothing new and cancel running workspaces. */
  | "stop";

/** Options of one execution of a plan. */
export interface ScheduleOptions {
  concurrency: number;
  failureMode: FailureMode;
  /** Aborted on Ctrl-C / SIGTERM. */
  interrupt: AbortSignal;
  /** Whether this continues an earlier run (`--resume`). */
  resumed: boolean;
}

/**
 * Runs the plan's workspaces, at most `concurrency` at once, each after the workspaces it
 * depends on succeeded. A workspace whose dependency did not succeed is skipped. On interrupt,
 * nothing new starts and running workspaces are cancelled (they end `interrupted`); workspaces
 * that never started stay `pending` so that `--resume` picks them up.
 */
export async function executeRun(run: RunContext, options: ScheduleOptions): Promise<RunStatus> {
  const started = monotonicMs();
  const cancel = new AbortController();
  // Every running step listens on this signal; with dozens of workspaces that is more than the
  // 10 listeners after which Node warns about a leak.
  setMaxListeners(0, cancel.signal);
  const onInterrupt = () => {
    const reason: unknown = options.interrupt.reason;
    run.recorder.emit({
      type: "run.interrupting",
      signal: typeof reason === "string" ? reason : "SIGINT",
    });
    cancel.abort();
  };
  if (options.interrupt.aborted) cancel.abort();
  options.interrupt.addEventListener("abort", onInterrupt, { once: true });
  run.recorder.emit({
    type: "run.started",
    plan: run.plan,
    resumed: options.resumed,
    concurrency: options.concurrency,
    pid: process.pid,
  });

  const status = (name: string): WorkspaceStatus =>
    run.recorder.state.workspaces[name]?.status ?? "pending";
  // An archived workspace was set aside by its reviewer: a resume does not bring it back.
  // Its own steps are over (a review of it may still run).
  const finished = (name: string): boolean =>
    ["succeeded", "failed", "skipped"].includes(status(name));
  const archived = (name: string): boolean =>
    run.recorder.state.workspaces[name]?.archived !== undefined;
  // Candidates of a task whose winner was picked (before a resume) are settled too.
  const settled = candidatesWithWinner(run.recorder.state);
  const waiting: Workspace[] = run.plan.workspaces.filter(
    (workspace) =>
      status(workspace.name) !== "succeeded" &&
      !archived(workspace.name) &&
      !settled.has(workspace.name),
  );
  const running = new Map<string, Promise<void>>();
  let stopped = false;
  const provider = new ProviderEvidence();
  // The loop sleeps until something changes: a workspace ends, takes a slot, a pick is made.
  let changed = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    changed = true;
    wake?.();
  };
  const nextChange = (): Promise<void> => {
    if (changed) {
      changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      wake = () => {
        wake = undefined;
        changed = false;
        resolve();
      };
    });
  };
  cancel.signal.addEventListener("abort", () => notify(), { once: true });
  const planOrder = new Map(run.plan.workspaces.map((workspace, index) => [workspace.name, index]));
  const slots: SlotGate = new SlotGate(
    options.concurrency,
    (workspace, step, signal): SlotVerdict => {
      // A prepared workspace ends the way one that never started does: skipped by fail-fast,
      // still pending after Ctrl-C (a resume starts it, reusing its worktree).
      if (stopped) return notStarted(step, "not started: fail-fast stopped the run");
      if (cancel.signal.aborted) return { status: "pending" };
      // With fail_fast, a commit may still fail the run: nothing new starts until it is known.
      if (options.failureMode === "stop" && slots.committing > 0) return "wait";
      const refused = run.budget.refusal(workspace, step);
      if (refused !== undefined) return { status: "skipped", failure: refused };
      // Its own budget signal: the runner ends it the way it ends a stopped step.
      if (signal.aborted) return "go";
      if (provider.held) {
        // Once every workspace that could show the provider is reachable has ended, the held
        // ones end the way the never-started ones do.
        return slots.beyond === 0 ? notStarted(step, `not started: ${provider.why}`) : "wait";
      }
      return "go";
    },
    (name) => planOrder.get(name) ?? 0,
    // After the workspace that took a slot announced its step: the events never show more
    // than `concurrency` workspaces ahead of the slots.
    () => setImmediate(notify),
  );
  // Winners being picked, by task: a pick waits for its candidates, dependents wait for it.
  const deciding = new Map<string, Promise<void>>();
  const startSelections = () => {
    if (cancel.signal.aborted) return;
    for (const selection of run.plan.selections ?? []) {
      const task = selection.taskId;
      if (run.recorder.state.selections?.[task] !== undefined || deciding.has(task)) continue;
      if (!selectionReady(run.recorder.state, selection)) continue;
      // A candidate that finished may still be under review (`review: auto`): the ranking
      // reads its verdict, so it waits until the candidate's review is over. One still at work
      // does not hold up a `first-passing` pick: its dependents start as soon as one passed.
      if (selection.candidates.some(({ name }) => running.has(name) && finished(name))) continue;
      deciding.set(
        task,
        decide(run, selection, cancel.signal).finally(() => {
          deciding.delete(task);
          notify();
        }),
      );
    }
  };

  // A workspace that cannot start because of what it depends on leaves the queue as skipped.
  const skipUnstarted = (workspace: Workspace, dependency: string, message: string) => {
    waiting.splice(waiting.indexOf(workspace), 1);
    run.recorder.emit({
      type: "workspace.finished",
      workspace: workspace.name,
      status: "skipped",
      durationMs: 0,
      failure: { reason: "dependency-failed", step: "worktree", dependency, message },
    });
  };

  for (;;) {
    // Before the end is judged: the last workspaces to finish may be a task's candidates, whose
    // winner is still to be picked when nothing waits on it.
    startSelections();
    if (waiting.length === 0 && running.size === 0 && deciding.size === 0) break;
    for (const workspace of [...waiting]) {
      // Up to `concurrency` workspaces are prepared ahead of the slots (see SlotGate).
      if (
        stopped ||
        provider.held ||
        cancel.signal.aborted ||
        run.budget.runStopped ||
        slots.ahead >= options.concurrency
      )
        break;
      const noWinner = (workspace.winnerOf ?? []).find(
        (task) =>
          run.recorder.state.selections?.[task] !== undefined &&
          run.recorder.state.selections[task]?.winner === undefined,
      );
      if (noWinner !== undefined) {
        skipUnstarted(
          workspace,
          noWinner,
          `not started: no candidate of ${noWinner} passed, so it has no winner to start from`,
        );
        continue;
      }
      // Starts from a winner not picked yet: wait for the pick.
      if ((workspace.winnerOf ?? []).some((task) => !run.recorder.state.selections?.[task]))
        continue;
      const blocker = workspace.dependsOn.find((dependency) => status(dependency) !== "succeeded");
      if (
        blocker !== undefined &&
        (["failed", "skipped"].includes(status(blocker)) || archived(blocker))
      ) {
        skipUnstarted(workspace, blocker, `not started: ${blocker} did not succeed`);
        continue;
      }
      if (blocker !== undefined) continue;
      waiting.splice(waiting.indexOf(workspace), 1);
      // Its task's budget is spent: the workspace would only be refused its agent turn.
      const refused = run.budget.refusal(workspace, "worktree");
      if (refused !== undefined) {
        run.recorder.emit({
          type: "workspace.finished",
          workspace: workspace.name,
          status: "skipped",
          durationMs: 0,
          failure: refused,
        });
        continue;
      }
      // Its own signal too, so that a budget can stop this workspace's turn alone.
      const budgetStop = new AbortController();
      run.budget.attach(workspace, budgetStop);
      const signal = AbortSignal.any([cancel.signal, budgetStop.signal]);
      const name = workspace.name;
      slots.enter(name);
      const slot: WorkspaceSlot = {
        acquire: (step, stepSignal) =>
          slots.acquire(workspace, step, stepSignal, () =>
            run.recorder.emit({ type: "workspace.waiting", workspace: name, step }),
          ),
        release: () => slots.release(name),
      };
      const work = runWorkspace(run, workspace, signal, undefined, slot)
        .then(async (final) => {
          // Known before its slot is free: what waits for one may not start, or must wait.
          provider.saw(final, run.recorder.state.workspaces[name]?.failure);
          if (final === "failed" && options.failureMode === "stop" && !stopped) {
            stopped = true;
            cancel.abort();
          }
          slots.release(name);
          // The review takes a slot again, before any workspace still to start.
          if (
            final === "succeeded" &&
            run.afterSuccess &&
            !cancel.signal.aborted &&
            (await slots.acquireForReview(name, cancel.signal))
          ) {
            await run.afterSuccess(run, workspace, cancel.signal);
          }
        })
        .then(() => {
          run.budget.detach(workspace);
          running.delete(name);
          // What waits for a slot may now go, or learn that it never will.
          slots.leave(name);
          notify();
        });
      running.set(name, work);
    }
    startSelections();
    // Everything left waits on something that will not happen.
    if (running.size === 0 && deciding.size === 0) break;
    await nextChange();
  }

  // Every workspace that ran failed to reach its provider: the rest would only wait as long.
  if (provider.held) {
    skipAll(run, waiting.splice(0), `not started: ${provider.why}`);
  }
  if (stopped) skipAll(run, waiting.splice(0), "not started: fail-fast stopped the run");
  // The run's budget is spent: what never started is recorded with why.
  for (const workspace of waiting.splice(0)) {
    const refused = cancel.signal.aborted ? undefined : run.budget.refusal(workspace, "worktree");
    if (refused === undefined) continue;
    run.recorder.emit({
      type: "workspace.finished",
      workspace: workspace.name,
      status: "skipped",
      durationMs: 0,
      failure: refused,
    });
  }
  run.budget.dispose();
  options.interrupt.removeEventListener("abort", onInterrupt);
  return finishRun(run, options.interrupt, started);
}

/**
 * Picks a task's winner; a failure of the pick itself (git could not be read) is recorded as a
 * selection without a winner, saying why, instead of taking the run down.
 */
async function decide(
  run: RunContext,
  selection: TaskSelection,
  signal: AbortSignal,
): Promise<void> {
  try {
    await pickWinner(run, selection, signal);
  } catch (error) {
    run.recorder.emit({
      type: "selection.made",
      task: selection.taskId,
      winner: undefined,
      ranking: { candidates: [], winner: undefined, decidedBy: undefined },
      manual: false,
      note: `the winner could not be picked: ${(error as Error).message}`,
    });
  }
}

/**
 * What finished workspaces tell about the model provider. After a workspace fails as
 * `unreachable`, or its agent's credentials are rejected, while none has been served by the
 * provider yet, new workspaces are held back: if the running ones fail the same way the cause is
 * shared and the run stops early; as soon as one is served, starting resumes.
 */
class ProviderEvidence {
  /** Whether starting new workspaces waits for evidence that the provider serves the agents. */
  held = false;
  /** Why the held workspaces do not start, once the running ones failed the same way. */
  why = "every running workspace failed to reach its provider";
  private served = false;

  saw(final: WorkspaceStatus, failure: Failure | undefined): void {
    if (failure?.reason === "unreachable") {
      this.why = `every running workspace failed to reach ${failure.url ?? "its provider"}`;
      if (!this.served) this.held = true;
    } else if (failure !== undefined && credentialsRejected(failure)) {
      this.why = "the model provider rejected the credentials of every running workspace's agent";
      if (!this.served) this.held = true;
    } else if (final === "succeeded" || (failure !== undefined && servedByProvider(failure))) {
      this.served = true;
      this.held = false;
    }
  }
}

/** Whether a failure shows the agent got answers from its provider (it failed later, or said why). */
function servedByProvider(failure: Failure): boolean {
  if (failure.step === "check" || failure.step === "commit") return true;
  return failure.step === "agent" && failure.reason === "agent-error";
}

/** A run's status: interrupted, succeeded when every workspace did, else failed. */
export function runStatus(
  counts: Record<WorkspaceStatus, number>,
  total: number,
  interrupt: AbortSignal,
): RunStatus {
  if (interrupt.aborted) return "interrupted";
  return counts.succeeded === total ? "succeeded" : "failed";
}

/** Emits `run.finished` with the run's status (see {@link runStatus}). */
function finishRun(run: RunContext, interrupt: AbortSignal, startedAt: number): RunStatus {
  const counts = countWorkspaces(run.recorder.state);
  const status = interrupt.aborted
    ? "interrupted"
    : onlyLosersFailed(run.recorder.state)
      ? "succeeded"
      : runStatus(counts, run.plan.workspaces.length, interrupt);
  const durationMs = Math.round(monotonicMs() - startedAt);
  run.recorder.emit({ type: "run.finished", status, durationMs, counts });
  return status;
}

/**
 * Whether every workspace that did not succeed is a candidate of a task whose winner was picked:
 * a best-of-N attempt that lost (or failed) does not fail a run whose task has its winner.
 */
export function onlyLosersFailed(state: RunState): boolean {
  const decided = candidatesWithWinner(state);
  return Object.values(state.workspaces).every(
    (workspace) => workspace.status === "succeeded" || decided.has(workspace.name),
  );
}

/** How a prepared workspace that did not start its heavy work ends: skipped, saying why. */
function notStarted(step: Step, message: string): SlotRefusal {
  return { status: "skipped", failure: { reason: "cancelled", step, message } };
}

/** Records workspaces that were never started as skipped, with why. */
function skipAll(run: RunContext, workspaces: readonly Workspace[], message: string): void {
  for (const workspace of workspaces) {
    run.recorder.emit({
      type: "workspace.finished",
      workspace: workspace.name,
      status: "skipped",
      durationMs: 0,
      failure: { reason: "cancelled", step: "worktree", message },
    });
  }
}
