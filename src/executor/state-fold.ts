import { unreachable } from "../errors.js";
import type { Plan } from "../planner/types.js";
import type { RunEvent, SelectionRecord, StepResult } from "./events.js";
import { interruptRunning } from "./interrupt-running.js";
import {
  type Failure,
  type JudgeSession,
  type RunSession,
  type RunState,
  STEPS,
  type Step,
  type StepRecord,
  type WorkspaceState,
  type WorkspaceStatus,
} from "./types.js";
import { judgeWorkedMs } from "./worked-time.js";

/** The run event of one `type`, e.g. `EventOf<"step.finished">`. */
export type EventOf<T extends RunEvent["type"]> = Extract<RunEvent, { type: T }>;

/** What a new run state is made from; the caller supplies clock and pid so the fold stays pure. */
export interface InitialRunStateOptions {
  runId: string;
  plan: Plan;
  /** ISO time the run was created. */
  createdAt: string;
  /** Process working on the run. */
  pid: number;
}

/** The state of a run before any event: every workspace of the plan pending. */
export function initialRunState(options: InitialRunStateOptions): RunState {
  return {
    formatVersion: 1,
    runId: options.runId,
    status: "running",
    createdAt: options.createdAt,
    updatedAt: options.createdAt,
    pid: options.pid,
    plan: options.plan,
    workspaces: Object.fromEntries(
      options.plan.workspaces.map((workspace) => [
        workspace.name,
        initialWorkspaceState(options.plan, workspace.name),
      ]),
    ),
  };
}

/** A workspace that has not started: no steps, no results. */
export function initialWorkspaceState(plan: Plan, name: string): WorkspaceState {
  const check = checkBaseline(plan, name);
  return {
    name,
    status: "pending",
    step: undefined,
    tries: 0,
    steps: {},
    worktreeCreated: false,
    copied: [],
    agent: {},
    ...(check === undefined ? {} : { check }),
  };
}

/**
 * The run state after one more event. Pure: the input is never changed and the result depends on
 * nothing but the two arguments, so the state on disk is the fold of `events.jsonl`.
 * Throws only on events that cannot belong to this state (another run, an unknown workspace),
 * which are executor bugs.
 */
export function applyEvent(state: RunState, event: RunEvent): RunState {
  if (event.runId !== state.runId) {
    throw new Error(
      `internal error: event ${event.type} of run ${event.runId} applied to run ${state.runId}`,
    );
  }
  const next: RunState = { ...state, updatedAt: event.time };
  // The last sign of life before this event: where a session whose conductor was killed ended.
  const lastSeen = state.updatedAt;
  switch (event.type) {
    case "run.started":
      return startRun(next, event, lastSeen);
    case "follow-up.started":
      return startFollowUp(next, event, lastSeen);
    case "workspace.started":
      return updateWorkspace(next, event.workspace, (workspace) =>
        startWorkspace(workspace, event),
      );
    case "step.started":
      return updateWorkspace(next, event.workspace, (workspace) =>
        startStep(next.plan, workspace, event),
      );
    case "step.finished":
      return updateWorkspace(next, event.workspace, (workspace) => finishStep(workspace, event));
    case "agent.activity":
      return updateWorkspace(next, event.workspace, (workspace) =>
        recordActivity(workspace, event),
      );
    case "step.output":
      // A live view's detail only: the step's log has every line.
      return next;
    case "workspace.retrying":
      return updateWorkspace(next, event.workspace, (workspace) => {
        // The failure of the previous try is in events.jsonl; the state describes the current
        // try. `tries` counts retries used, whichever step they were spent on (the event's
        // `try` numbers the attempts of one step).
        const { failure: _previous, ...rest } = workspace;
        return { ...rest, status: "running", step: event.step, tries: workspace.tries + 1 };
      });
    case "workspace.finished":
      return updateWorkspace(next, event.workspace, (workspace) =>
        finishWorkspace(workspace, event),
      );
    case "selection.made":
      return recordSelection(next, event);
    case "judge.started":
      return updateJudges(next, event.task, (sessions) => [
        ...sessions,
        { asked: event.asked, startedAt: event.time },
      ]);
    case "judge.usage":
      return updateRunningJudge(next, event.task, (running) => ({
        ...running,
        usage: event.usage,
      }));
    case "judge.finished":
      return updateRunningJudge(next, event.task, (running) => ({
        ...running,
        agentTimeMs: event.agentTimeMs,
        ...(event.usage === undefined ? {} : { usage: event.usage }),
      }));
    case "review.started":
      return updateWorkspace(next, event.workspace, (workspace) => ({
        ...workspace,
        review: {
          status: "running",
          reviewer: event.reviewer,
          startedAt: event.time,
          ...(event.head === undefined ? {} : { head: event.head }),
          ...(event.pid === undefined ? {} : { pid: event.pid }),
        },
      }));
    case "review.finished":
      return updateWorkspace(next, event.workspace, (workspace) => finishReview(workspace, event));
    case "run.interrupting":
    case "seed.phase":
    // A live view's detail: the workspace is running, between its ports step and the next.
    case "workspace.waiting":
      return next;
    case "budget.reached": {
      const reached = { ...event.reached, at: event.time };
      const earlier = next.budgetReached ?? { tasks: {} };
      return {
        ...next,
        budgetReached:
          event.scope === "run"
            ? { ...earlier, run: reached }
            : { ...earlier, tasks: { ...earlier.tasks, [event.task ?? ""]: reached } },
      };
    }
    case "workspace.archived":
      return updateWorkspace(next, event.workspace, (workspace) => ({
        ...workspace,
        archived: {
          at: event.time,
          branchDeleted: event.branchDeleted,
          ...(event.keptAs === undefined ? {} : { keptAs: event.keptAs }),
        },
      }));
    case "run.finished":
    case "follow-up.finished":
      return finishRun(next, event);
    default:
      return unreachable(event);
  }
}

/** Folds a whole event sequence onto a state. */
export function applyEvents(state: RunState, events: Iterable<RunEvent>): RunState {
  let current = state;
  for (const event of events) current = applyEvent(current, event);
  return current;
}

/** How many workspaces of the run are in each status. */
export function countWorkspaces(state: RunState): Record<WorkspaceStatus, number> {
  const counts: Record<WorkspaceStatus, number> = {
    pending: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    interrupted: 0,
  };
  for (const workspace of Object.values(state.workspaces)) counts[workspace.status] += 1;
  return counts;
}

function startRun(state: RunState, event: EventOf<"run.started">, lastSeen: string): RunState {
  const workspaces: Record<string, WorkspaceState> = {};
  const settled = event.resumed ? candidatesWithWinner(state) : new Set<string>();
  for (const planned of event.plan.workspaces) {
    const earlier = state.workspaces[planned.name];
    if (!event.resumed || earlier === undefined) {
      workspaces[planned.name] = initialWorkspaceState(event.plan, planned.name);
    } else if (
      earlier.status === "succeeded" ||
      // The task has its winner: its other candidates are not worked on again.
      settled.has(planned.name) ||
      (event.reopen !== undefined && !event.reopen.includes(planned.name))
    ) {
      workspaces[planned.name] = earlier;
    } else {
      workspaces[planned.name] = reopenWorkspace(earlier, lastSeen);
    }
  }
  // A session checks its budgets afresh (they may have been raised): earlier stops are history.
  const {
    finishedAt: _reopened,
    budgetReached: _checkedAgain,
    selections: picked,
    ...rest
  } = state;
  // A resume works on the candidates of a task without a winner again, and picks again.
  const kept = Object.entries(picked ?? {}).filter(([, record]) => record.winner !== undefined);
  // A new run starts when its first event is stamped, so run.json and a fold of events.jsonl agree.
  const createdAt = event.resumed ? state.createdAt : event.time;
  // Older versions recorded a follow-up as a resume that reopens one workspace.
  const [reopened] = event.reopen ?? [];
  const session: RunSession =
    reopened !== undefined && event.reopen?.length === 1
      ? { kind: "follow-up", workspace: reopened, startedAt: event.time }
      : { kind: event.resumed ? "resume" : "run", startedAt: event.time };
  const sessions = event.resumed ? openSession(state.sessions, session, lastSeen) : [session];
  const selections = event.resumed && kept.length > 0 ? Object.fromEntries(kept) : undefined;
  const started: RunState = {
    ...rest,
    createdAt,
    status: "running",
    pid: event.pid,
    // A resumed run's plan is made afresh: the winners picked before keep their branch names.
    plan: withWinnerBranches(event.plan, selections),
    workspaces,
    sessions,
    ...(selections === undefined ? {} : { selections }),
  };
  return endRunningJudges(started, lastSeen);
}

/** Names of the candidates of tasks whose winner is picked. */
export function candidatesWithWinner(state: RunState): Set<string> {
  const names = new Set<string>();
  for (const selection of state.plan.selections ?? []) {
    if (state.selections?.[selection.taskId]?.winner === undefined) continue;
    for (const candidate of selection.candidates) names.add(candidate.name);
  }
  return names;
}

/** A selection: recorded, and the winner's branch in the plan renamed as it was in git. */
function recordSelection(state: RunState, event: EventOf<"selection.made">): RunState {
  const { type: _type, time, runId: _runId, ...record } = event;
  const selections = { ...(state.selections ?? {}), [event.task]: { ...record, at: time } };
  return { ...state, selections, plan: withWinnerBranches(state.plan, selections) };
}

/** The task's judge sessions as `update` makes them from the ones so far. */
function updateJudges(
  state: RunState,
  task: string,
  update: (sessions: readonly JudgeSession[]) => JudgeSession[],
): RunState {
  const judges = state.judges ?? {};
  return { ...state, judges: { ...judges, [task]: update(judges[task] ?? []) } };
}

/** The task's judge session still running (its latest, not ended) as `update` makes it. */
function updateRunningJudge(
  state: RunState,
  task: string,
  update: (running: JudgeSession) => JudgeSession,
): RunState {
  const running = state.judges?.[task]?.at(-1);
  if (running === undefined || running.agentTimeMs !== undefined) return state;
  return updateJudges(state, task, (sessions) => [...sessions.slice(0, -1), update(running)]);
}

/**
 * The judge sessions with every one still running ended at `time`: its session ended without the
 * judge's own finish event (a killed conductor), so its agent time stops there.
 */
function endRunningJudges(state: RunState, time: string): RunState {
  if (state.judges === undefined) return state;
  const ended = (session: JudgeSession): JudgeSession =>
    session.agentTimeMs !== undefined
      ? session
      : { ...session, agentTimeMs: judgeWorkedMs(session, new Date(time)) };
  return {
    ...state,
    judges: Object.fromEntries(
      Object.entries(state.judges).map(([task, sessions]) => [task, sessions.map(ended)]),
    ),
  };
}

/**
 * The plan with each picked winner on the branch it took (the task's plain branch name) and
 * every other candidate on its own, so every command that reads a workspace's branch from the
 * run finds the one git has.
 */
export function withWinnerBranches(
  plan: Plan,
  selections: Readonly<Record<string, SelectionRecord>> | undefined,
): Plan {
  if (selections === undefined || plan.selections === undefined) return plan;
  const branchOf = new Map<string, string>();
  for (const selection of plan.selections) {
    const picked = selections[selection.taskId];
    for (const candidate of selection.candidates) {
      const won = picked?.winner === candidate.name && picked.branch !== undefined;
      branchOf.set(candidate.name, won ? (picked.branch as string) : candidate.branch);
    }
  }
  return {
    ...plan,
    workspaces: plan.workspaces.map((workspace) => {
      const branch = branchOf.get(workspace.name);
      return branch === undefined || branch === workspace.branch
        ? workspace
        : { ...workspace, branch };
    }),
  };
}

/** `conductor continue`: the run works again, on one workspace only. */
function startFollowUp(
  state: RunState,
  event: EventOf<"follow-up.started">,
  lastSeen: string,
): RunState {
  const { finishedAt: _reopened, ...rest } = state;
  const reopened = updateWorkspace(rest, event.workspace, (workspace) =>
    reopenWorkspace(workspace, lastSeen),
  );
  const session: RunSession = {
    kind: "follow-up",
    workspace: event.workspace,
    startedAt: event.time,
  };
  const started: RunState = {
    ...reopened,
    status: "running",
    pid: event.pid,
    sessions: openSession(state.sessions, session, lastSeen),
  };
  return endRunningJudges(started, lastSeen);
}

/**
 * A workspace a resume or follow-up works on again keeps what is true on disk (worktree, copied
 * files, earlier steps' records, its commit) and the time already spent on it; its outcome is
 * reopened because the new session decides it again. If its last session was killed while it
 * ran, that session's time counts up to the last sign of life.
 */
function reopenWorkspace(earlier: WorkspaceState, lastSeen: string): WorkspaceState {
  const { failure: _f, finishedAt: _t, startedAt, ...kept } = earlier;
  const cutOff =
    startedAt !== undefined && earlier.finishedAt === undefined
      ? Math.max(0, Date.parse(lastSeen) - Date.parse(startedAt))
      : 0;
  return {
    ...kept,
    status: "pending",
    ...(cutOff > 0 ? { durationMs: (earlier.durationMs ?? 0) + cutOff } : {}),
  };
}

/** The sessions with a new one started; one left open by a killed conductor ends at `lastSeen`. */
function openSession(
  sessions: readonly RunSession[] | undefined,
  session: RunSession,
  lastSeen: string,
): RunSession[] {
  const closed = [...(sessions ?? [])];
  const last = closed.at(-1);
  if (last !== undefined && last.finishedAt === undefined) {
    closed[closed.length - 1] = {
      ...last,
      finishedAt: lastSeen,
      durationMs: Math.max(0, Date.parse(lastSeen) - Date.parse(last.startedAt)),
    };
  }
  return [...closed, session];
}

function startWorkspace(
  workspace: WorkspaceState,
  event: EventOf<"workspace.started">,
): WorkspaceState {
  // A retry may announce the start again: keep the first start time so durations cover all
  // tries, and the step it is in.
  if (workspace.status === "running" && workspace.startedAt !== undefined) {
    return { ...workspace, tries: event.try };
  }
  // A fresh start (or a resumed one) is in no step until the first one starts. The time spent
  // in earlier sessions stays: this session's time is added when it ends.
  const { failure: _f, finishedAt: _t, ...rest } = workspace;
  return { ...rest, status: "running", step: undefined, tries: event.try, startedAt: event.time };
}

function startStep(
  plan: Plan,
  workspace: WorkspaceState,
  event: EventOf<"step.started">,
): WorkspaceState {
  const cleared = clearOutputs(plan, workspace, event.step);
  const earlierMs = finishedTime(workspace.steps[event.step]);
  const record: StepRecord = {
    status: "running",
    startedAt: event.time,
    ...(earlierMs === undefined ? {} : { totalMs: earlierMs }),
  };
  return {
    ...cleared,
    status: "running",
    // Tolerates an executor that starts steps without announcing the workspace first.
    tries: Math.max(cleared.tries, 1),
    step: event.step,
    steps: { ...cleared.steps, [event.step]: record },
  };
}

/**
 * Running a step again (a retry, or a resume) makes what it produced before stale: a check
 * result of try 1 says nothing about try 2. Only the step's own outputs go: on resume, later
 * steps that succeeded earlier are not repeated and their results stay true. Facts about the
 * disk (the worktree exists, where its branch started, which files were copied into it) and the
 * agent session (follow-ups resume it) are kept until the step reports them anew: a copy step
 * that runs again needs to know which of the files already there are its own copies, to redact
 * their secrets and keep them out of commits.
 */
function clearOutputs(plan: Plan, workspace: WorkspaceState, step: Step): WorkspaceState {
  const next: WorkspaceState = { ...workspace };
  switch (step) {
    case "worktree":
    case "copy":
    case "setup":
      break;
    case "seed":
      // A seed step that runs again places the folders anew; until it reports, none are seeded.
      delete next.seed;
      break;
    case "ports":
      delete next.port;
      break;
    case "agent":
      // What earlier turns spent stays: budgets and reports count every turn of a workspace.
      next.agent = {
        ...(workspace.agent.sessionId === undefined
          ? {}
          : { sessionId: workspace.agent.sessionId }),
        ...(workspace.agent.spent === undefined ? {} : { spent: workspace.agent.spent }),
      };
      break;
    case "check": {
      const baseline = checkBaseline(plan, workspace.name);
      if (baseline === undefined) delete next.check;
      else next.check = baseline;
      break;
    }
    case "commit":
      // The branch still ends in the earlier commit until the step reports what it holds now.
      break;
    default:
      unreachable(step);
  }
  return next;
}

function finishStep(workspace: WorkspaceState, event: EventOf<"step.finished">): WorkspaceState {
  const started = workspace.steps[event.step];
  const record: StepRecord = {
    status: event.status,
    startedAt:
      started?.status === "running"
        ? started.startedAt
        : new Date(Date.parse(event.time) - event.durationMs).toISOString(),
    finishedAt: event.time,
    durationMs: event.durationMs,
    totalMs: (finishedTime(started) ?? 0) + event.durationMs,
  };
  let next: WorkspaceState = {
    ...workspace,
    step: event.step,
    steps: { ...workspace.steps, [event.step]: record },
  };
  if (event.result !== undefined) next = applyResult(next, event.result);
  if (event.step === "check" && event.result === undefined) {
    const check = checkWithoutResult(event);
    if (check !== undefined) next.check = check;
  }
  // A verdict is in a commit's trailers only once the commit step after it made that commit.
  if (event.step === "check") next.checkInCommit = false;
  if (event.status === "failed" && event.failure !== undefined) next.failure = event.failure;
  return next;
}

function applyResult(workspace: WorkspaceState, result: StepResult): WorkspaceState {
  switch (result.step) {
    case "worktree":
      return { ...workspace, worktreeCreated: true, startCommit: result.startCommit };
    case "copy":
      return { ...workspace, copied: [...result.copied] };
    case "ports":
      return { ...workspace, port: result.port };
    case "seed":
      return {
        ...workspace,
        seed: {
          key: result.key,
          folders: result.folders.filter((f) => f.method !== "absent").map((f) => f.path),
        },
      };
    case "agent": {
      // The step result is authoritative, but an agent that was cut short may not know
      // everything: keep what its activity already told.
      const agent = { ...workspace.agent };
      if (result.sessionId !== undefined) agent.sessionId = result.sessionId;
      if (result.usage !== undefined) agent.usage = result.usage;
      if (result.spent !== undefined) agent.spent = result.spent;
      if (result.finalMessage !== undefined) agent.finalMessage = result.finalMessage;
      return { ...workspace, agent };
    }
    case "check":
      return { ...workspace, check: result.passed ? "passed" : "failed" };
    case "commit": {
      const next: WorkspaceState = { ...workspace, diff: result.diff };
      if (result.commit === undefined) delete next.commit;
      else next.commit = result.commit;
      // Logs of older versions say nothing of it: their commit steps always made the commit.
      next.checkInCommit = result.commit !== undefined && result.created !== false;
      return next;
    }
    default:
      return unreachable(result);
  }
}

/** A check step that finished without a result: judge by its status. */
function checkWithoutResult(event: EventOf<"step.finished">): WorkspaceState["check"] | undefined {
  switch (event.status) {
    case "succeeded":
      return "passed";
    case "skipped":
      return "none";
    case "failed":
      // A cancelled check never reached a verdict.
      return event.failure?.reason === "cancelled" ? undefined : "failed";
    default:
      return unreachable(event.status);
  }
}

function recordActivity(
  workspace: WorkspaceState,
  event: EventOf<"agent.activity">,
): WorkspaceState {
  const { activity } = event;
  switch (activity.kind) {
    // Session and usage updates are bookkeeping: they would hide what the agent is doing from
    // live views, so they do not replace lastActivity.
    case "session":
      return { ...workspace, agent: { ...workspace.agent, sessionId: activity.sessionId } };
    case "usage":
      return {
        ...workspace,
        agent: {
          ...workspace.agent,
          usage: activity.usage,
          ...(event.spent === undefined ? {} : { spent: event.spent }),
        },
      };
    case "message":
      // The latest message is the final one so far; a killed agent still leaves its last word.
      return {
        ...workspace,
        agent: { ...workspace.agent, finalMessage: activity.text, lastActivity: activity },
      };
    case "command":
    case "file-change":
    case "reasoning":
    case "warning":
    case "error":
    case "connection-error":
      return { ...workspace, agent: { ...workspace.agent, lastActivity: activity } };
    default:
      return unreachable(activity);
  }
}

function finishReview(
  workspace: WorkspaceState,
  event: EventOf<"review.finished">,
): WorkspaceState {
  const started = workspace.review;
  return {
    ...workspace,
    review: {
      status: event.status,
      reviewer: started?.reviewer ?? "codex",
      startedAt:
        started?.startedAt ?? new Date(Date.parse(event.time) - event.durationMs).toISOString(),
      finishedAt: event.time,
      durationMs: event.durationMs,
      ...(event.head === undefined
        ? started?.head
          ? { head: started.head }
          : {}
        : { head: event.head }),
      ...(event.verdict === undefined ? {} : { verdict: event.verdict }),
      ...(event.counts === undefined ? {} : { counts: event.counts }),
      ...(event.failure === undefined ? {} : { failure: event.failure }),
    },
  };
}

function finishWorkspace(
  workspace: WorkspaceState,
  event: EventOf<"workspace.finished">,
): WorkspaceState {
  const failure: Failure | undefined =
    event.failure ?? (event.status === "succeeded" ? undefined : workspace.failure);
  const { failure: _old, ...rest } = workspace;
  // A failed check is followed by a commit (the work is kept), so the last step started is not
  // where the workspace failed: the failure says where.
  const stoppedAt =
    failure !== undefined && (event.status === "failed" || event.status === "interrupted")
      ? failure.step
      : workspace.step;
  return {
    ...rest,
    status: event.status,
    step: stoppedAt,
    finishedAt: event.time,
    // Summed over sessions: a follow-up adds its own time, it does not replace the run's.
    durationMs: (workspace.durationMs ?? 0) + event.durationMs,
    steps: closeRunningSteps(workspace.steps, event.time),
    ...(failure === undefined ? {} : { failure }),
  };
}

/**
 * A step still marked running when its workspace finished was cut short (interrupt, kill):
 * it did not succeed, and a finished workspace must not show a running step.
 */
function closeRunningSteps(steps: WorkspaceState["steps"], time: string): WorkspaceState["steps"] {
  const closed: WorkspaceState["steps"] = {};
  for (const step of STEPS) {
    const record = steps[step];
    if (record === undefined) continue;
    const durationMs = Math.max(0, Date.parse(time) - Date.parse(record.startedAt));
    closed[step] =
      record.status === "running"
        ? {
            status: "failed",
            startedAt: record.startedAt,
            finishedAt: time,
            durationMs,
            totalMs: (record.totalMs ?? 0) + durationMs,
          }
        : record;
  }
  return closed;
}

/**
 * Time of a step's finished executions: its total, or for a record of an older version its
 * duration; a running record carries the total of the executions before it.
 */
function finishedTime(record: StepRecord | undefined): number | undefined {
  if (record === undefined) return undefined;
  if (record.status === "running") return record.totalMs;
  return record.totalMs ?? record.durationMs;
}

/** The end of a session: of the run (or a resume), or of a follow-up. */
function finishRun(
  state: RunState,
  event: EventOf<"run.finished"> | EventOf<"follow-up.finished">,
): RunState {
  // Nothing runs after the run finished; a workspace without its own finish event was cut
  // off, and `--resume` must pick it up again.
  const workspaces = interruptRunning(state.workspaces, (workspace) => ({
    finishedAt: event.time,
    ...(workspace.startedAt === undefined
      ? {}
      : {
          durationMs:
            (workspace.durationMs ?? 0) +
            Math.max(0, Date.parse(event.time) - Date.parse(workspace.startedAt)),
        }),
    steps: closeRunningSteps(workspace.steps, event.time),
  }));
  const sessions = [...(state.sessions ?? [])];
  const last = sessions.at(-1);
  if (last !== undefined && last.finishedAt === undefined) {
    sessions[sessions.length - 1] = {
      ...last,
      finishedAt: event.time,
      durationMs: event.durationMs,
    };
  }
  const finished: RunState = {
    ...state,
    status: event.status,
    finishedAt: event.time,
    workspaces,
    ...(state.sessions === undefined ? {} : { sessions }),
  };
  return endRunningJudges(finished, event.time);
}

function updateWorkspace(
  state: RunState,
  name: string,
  update: (workspace: WorkspaceState) => WorkspaceState,
): RunState {
  const workspace = state.workspaces[name];
  if (workspace === undefined) {
    throw new Error(`internal error: event for workspace "${name}", which is not in the plan`);
  }
  return { ...state, workspaces: { ...state.workspaces, [name]: update(workspace) } };
}

/** `none` for a workspace without a check script; undefined (not checked yet) otherwise. */
function checkBaseline(plan: Plan, name: string): "none" | undefined {
  const planned = plan.workspaces.find((workspace) => workspace.name === name);
  return planned !== undefined && planned.scripts.check === undefined ? "none" : undefined;
}
