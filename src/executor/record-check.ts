import type { AgentActivity } from "../agents/types.js";
import type { ReviewVerdict } from "../reviewing/findings.js";
import type { AgentKind } from "../schema/config.js";
import type { BudgetLimitKind } from "../usage/budget.js";
import type { RunEventType, SeedPhase, StepResult } from "./events.js";
import {
  type BudgetScope,
  type Failure,
  type ReviewFailure,
  type ReviewState,
  type RunSession,
  type RunStatus,
  STEPS,
  type Step,
  type StepRecord,
  type WorkspaceState,
  type WorkspaceStatus,
} from "./types.js";

/**
 * The closed sets of values a run's record may hold where conductor switches on them (the fold,
 * the reports, status). A record written by hand or by another tool can hold anything; a value
 * outside these sets would reach a switch's `unreachable` (an internal error) or print as
 * `undefined`, so it is found here first and the record is refused as damaged. Each set is a
 * `Record` over its type, so a value added to a type and not here is a compile error.
 */
const sets = {
  eventType: keys<RunEventType>({
    "run.started": true,
    "follow-up.started": true,
    "workspace.started": true,
    "workspace.waiting": true,
    "step.started": true,
    "step.finished": true,
    "seed.phase": true,
    "agent.activity": true,
    "budget.reached": true,
    "judge.started": true,
    "judge.usage": true,
    "judge.finished": true,
    "step.output": true,
    "workspace.retrying": true,
    "workspace.finished": true,
    "selection.made": true,
    "review.started": true,
    "review.finished": true,
    "run.interrupting": true,
    "workspace.archived": true,
    "run.finished": true,
    "follow-up.finished": true,
  }),
  step: [...STEPS] as readonly Step[],
  workspaceStatus: keys<WorkspaceStatus>({
    pending: true,
    running: true,
    succeeded: true,
    failed: true,
    skipped: true,
    interrupted: true,
  }),
  runStatus: keys<RunStatus>({ running: true, succeeded: true, failed: true, interrupted: true }),
  stepStatus: keys<StepRecord["status"]>({
    running: true,
    succeeded: true,
    failed: true,
    skipped: true,
  }),
  finishedStepStatus: keys<"succeeded" | "failed" | "skipped">({
    succeeded: true,
    failed: true,
    skipped: true,
  }),
  failureReason: keys<Failure["reason"]>({
    "exit-non-zero": true,
    signal: true,
    timeout: true,
    "spawn-error": true,
    "agent-error": true,
    "git-error": true,
    integrity: true,
    conflict: true,
    "io-error": true,
    "dependency-failed": true,
    unreachable: true,
    idle: true,
    cancelled: true,
    budget: true,
  }),
  reviewStatus: keys<ReviewState["status"]>({
    running: true,
    completed: true,
    failed: true,
    skipped: true,
  }),
  reviewFailureReason: keys<ReviewFailure["reason"]>({
    "agent-error": true,
    edited: true,
    malformed: true,
    instructions: true,
    "git-error": true,
    "io-error": true,
    cancelled: true,
  }),
  verdict: keys<ReviewVerdict>({ correct: true, incorrect: true, unknown: true }),
  reviewer: keys<AgentKind>({ codex: true, claude: true, command: true }),
  activityKind: keys<AgentActivity["kind"]>({
    session: true,
    command: true,
    "file-change": true,
    message: true,
    reasoning: true,
    usage: true,
    warning: true,
    error: true,
    "connection-error": true,
  }),
  resultStep: keys<StepResult["step"]>({
    worktree: true,
    copy: true,
    ports: true,
    seed: true,
    agent: true,
    check: true,
    commit: true,
  }),
  seedPhase: keys<SeedPhase>({ waiting: true, populating: true, placing: true }),
  budgetScope: keys<BudgetScope>({ run: true, task: true }),
  budgetLimit: keys<BudgetLimitKind>({ tokens: true, cost: true, agent_time: true }),
  check: keys<NonNullable<WorkspaceState["check"]>>({ passed: true, failed: true, none: true }),
  sessionKind: keys<RunSession["kind"]>({ run: true, resume: true, "follow-up": true }),
};

function keys<T extends string>(all: Record<T, true>): readonly T[] {
  return Object.keys(all) as T[];
}

/** A record's value as read: any JSON. */
type Value = unknown;

/** What is wrong with `value` at `where`, unless it is one of `allowed` (or absent and optional). */
function notOneOf(
  where: string,
  value: Value,
  allowed: readonly string[],
  optional = false,
): string | undefined {
  if (optional && value === undefined) return undefined;
  if (typeof value === "string" && allowed.includes(value)) return undefined;
  const shown = value === undefined ? "missing" : JSON.stringify(value);
  return `${where} is ${shown}, which is not one of ${allowed.join(", ")}`;
}

function field(value: Value, key: string): Value {
  return isMap(value) ? value[key] : undefined;
}

function isMap(value: Value): value is Record<string, Value> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The first problem of a list of checks. */
function first(...problems: (string | undefined)[]): string | undefined {
  return problems.find((problem) => problem !== undefined);
}

function failureProblem(where: string, failure: Value): string | undefined {
  if (failure === undefined) return undefined;
  if (!isMap(failure)) return `${where} is not an object`;
  return first(
    notOneOf(`${where}.reason`, failure.reason, sets.failureReason),
    notOneOf(`${where}.step`, failure.step, sets.step),
  );
}

function reviewFailureProblem(where: string, failure: Value): string | undefined {
  if (failure === undefined) return undefined;
  if (!isMap(failure)) return `${where} is not an object`;
  return notOneOf(`${where}.reason`, failure.reason, sets.reviewFailureReason);
}

function activityProblem(where: string, activity: Value, optional: boolean): string | undefined {
  if (optional && activity === undefined) return undefined;
  if (!isMap(activity)) return `${where} is not an object`;
  return notOneOf(`${where}.kind`, activity.kind, sets.activityKind);
}

/** Events that name a workspace, and those that name a step. */
const WITH_WORKSPACE = new Set<string>(
  sets.eventType.filter(
    (type) =>
      ![
        "run.started",
        "budget.reached",
        "judge.started",
        "judge.usage",
        "judge.finished",
        "selection.made",
        "run.interrupting",
        "run.finished",
      ].includes(type),
  ),
);
const WITH_STEP = new Set<string>([
  "workspace.waiting",
  "step.started",
  "step.finished",
  "step.output",
  "workspace.retrying",
]);

/**
 * What is wrong with one parsed line of `events.jsonl`, or undefined when conductor can fold it:
 * a known type, and every value a reader switches on one of those it knows.
 */
export function eventProblem(event: Value): string | undefined {
  if (!isMap(event)) return "it is not an object";
  const type = event.type;
  const known = notOneOf("its type", type, sets.eventType);
  if (known !== undefined) return known;
  const of = `its ${String(type)} event`;
  if (WITH_WORKSPACE.has(type as string) && typeof event.workspace !== "string")
    return `${of} names no workspace`;
  if (WITH_STEP.has(type as string)) {
    const step = notOneOf(`the step of ${of}`, event.step, sets.step);
    if (step !== undefined) return step;
  }
  const at = (key: string) => `the ${key} of ${of}`;
  switch (type as RunEventType) {
    case "step.finished":
      return first(
        notOneOf(at("status"), event.status, sets.finishedStepStatus),
        event.result === undefined
          ? undefined
          : notOneOf(at("result.step"), field(event.result, "step"), sets.resultStep),
        failureProblem(at("failure"), event.failure),
      );
    case "workspace.retrying":
      return failureProblem(at("failure"), event.failure);
    case "workspace.finished":
      return first(
        notOneOf(at("status"), event.status, sets.workspaceStatus),
        failureProblem(at("failure"), event.failure),
      );
    case "agent.activity":
      return activityProblem(at("activity"), event.activity, false);
    case "seed.phase":
      return notOneOf(at("phase"), event.phase, sets.seedPhase);
    case "budget.reached":
      return first(
        notOneOf(at("scope"), event.scope, sets.budgetScope),
        notOneOf(at("reached.limit"), field(event.reached, "limit"), sets.budgetLimit),
      );
    case "review.started":
      return notOneOf(at("reviewer"), event.reviewer, sets.reviewer);
    case "review.finished":
      return first(
        notOneOf(at("status"), event.status, ["completed", "failed", "skipped"]),
        notOneOf(at("verdict"), event.verdict, sets.verdict, true),
        reviewFailureProblem(at("failure"), event.failure),
      );
    case "run.finished":
    case "follow-up.finished":
      return notOneOf(at("status"), event.status, sets.runStatus);
    default:
      return undefined;
  }
}

/**
 * What is wrong with a run's state (run.json, or the fold of its events), or undefined when every
 * value a reader switches on is one it knows. The shape around them is checked by the loader.
 */
export function stateProblem(state: Record<string, Value>): string | undefined {
  const run = first(
    notOneOf("its status", state.status, sets.runStatus),
    ...(Array.isArray(state.sessions)
      ? state.sessions.map((session, index) =>
          notOneOf(`sessions[${index}].kind`, field(session, "kind"), sets.sessionKind),
        )
      : []),
  );
  if (run !== undefined) return run;
  for (const [name, workspace] of Object.entries(state.workspaces as Record<string, Value>)) {
    const problem = workspaceProblem(`workspace ${JSON.stringify(name)}`, workspace);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function workspaceProblem(where: string, workspace: Value): string | undefined {
  if (!isMap(workspace)) return `${where} is not an object`;
  const steps = workspace.steps;
  if (!isMap(steps)) return `${where} has no step records`;
  const review = workspace.review;
  return first(
    notOneOf(`the status of ${where}`, workspace.status, sets.workspaceStatus),
    notOneOf(`the step of ${where}`, workspace.step, sets.step, true),
    ...Object.entries(steps).map(([step, record]) =>
      first(
        notOneOf(`a step of ${where}`, step, sets.step),
        notOneOf(`the status of ${where}'s ${step} step`, field(record, "status"), sets.stepStatus),
      ),
    ),
    notOneOf(`the check of ${where}`, workspace.check, sets.check, true),
    failureProblem(`the failure of ${where}`, workspace.failure),
    activityProblem(`the last activity of ${where}`, field(workspace.agent, "lastActivity"), true),
    review === undefined
      ? undefined
      : first(
          notOneOf(`the review status of ${where}`, field(review, "status"), sets.reviewStatus),
          notOneOf(`the reviewer of ${where}`, field(review, "reviewer"), sets.reviewer),
          notOneOf(`the review verdict of ${where}`, field(review, "verdict"), sets.verdict, true),
          reviewFailureProblem(`the review failure of ${where}`, field(review, "failure")),
        ),
  );
}
