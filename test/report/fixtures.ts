import type { RunEvent } from "../../src/executor/events.js";
import { applyEvents, initialRunState } from "../../src/executor/state-fold.js";
import type { DiffStat, Failure, RunState, Step } from "../../src/executor/types.js";
import { buildPlan } from "../../src/planner/plan.js";
import type { Plan, RepoFacts, Shard } from "../../src/planner/types.js";
import { parseConfig } from "../../src/schema/load.js";
import type { TokenUsage } from "../../src/usage/usage.js";

/** A run event without the fields every event carries. */
export type EventBody = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, "time" | "runId">
    : never
  : never;

/** Secret-looking values placed in the config env: reports must never show them. */
export const SECRET = "hunter2-very-secret-token";

/** The config most report tests plan: dependencies, best-of-2, a matrix, a task without check. */
export const CONFIG_YAML = `
version: 1
retries: 1
env:
  API_TOKEN: ${SECRET}
scripts:
  setup: npm ci
  check: npm test
tasks:
  - id: add-auth
    prompt: Add authentication to the API.
  - id: auth-docs
    depends_on: [add-auth]
    prompt: Document the authentication.
  - id: fix-bug
    attempts: 2
    prompt: Fix the off-by-one bug in the pager.
  - id: lint
    prompt: Fix the lint warnings.
    scripts:
      check: null
  - id: refactor
    matrix:
      model: [o4-mini, gpt-5]
    prompt: Refactor the router.
`;

/** Fixed repository facts so plans (and their hashes) are the same on every machine. */
export const FACTS: RepoFacts = {
  root: "/repo/webapp",
  name: "webapp",
  defaultBranch: "main",
  baseRef: "main",
  baseCommit: "0123456789abcdef0123456789abcdef01234567",
  homeDir: "/home/dev",
};

/** The run id used by the fixtures. */
export const RUN_ID = "20260101-100000-abcd";

/** Plans {@link CONFIG_YAML} (or another config), optionally one shard of it. */
export function makePlan(
  options: { yaml?: string; shard?: Shard; taskPatterns?: string[]; runId?: string } = {},
): Plan {
  const { config } = parseConfig(
    new TextEncoder().encode(options.yaml ?? CONFIG_YAML),
    "conductor.yaml",
  );
  return buildPlan({
    config,
    facts: FACTS,
    promptFiles: {},
    runId: options.runId ?? RUN_ID,
    ...(options.taskPatterns === undefined ? {} : { taskPatterns: options.taskPatterns }),
    ...(options.shard === undefined ? {} : { shard: options.shard }),
  });
}

/** The fixtures' clock: milliseconds after this instant. */
export const T0 = Date.parse("2026-01-01T10:00:00.000Z");

/** ISO time `ms` after {@link T0}. */
export function at(ms: number): string {
  return new Date(T0 + ms).toISOString();
}

/** Timed event bodies: `[offset from T0 in ms, body]`. */
export type Timed = [number, EventBody];

/** Turns timed bodies into events of a run, ordered by time (stable for equal times). */
export function toEvents(timed: readonly Timed[], runId = RUN_ID): RunEvent[] {
  return timed
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => a.entry[0] - b.entry[0] || a.index - b.index)
    .map(({ entry: [ms, body] }) => ({ time: at(ms), runId, ...body }) as RunEvent);
}

/** Token usage with the given input and output counts. */
export function usage(inputTokens: number, outputTokens: number): TokenUsage {
  return { inputTokens, cachedInputTokens: 0, outputTokens, reasoningTokens: 0 };
}

/** How a scripted workspace ends. */
export type Outcome =
  | { kind: "succeeded" }
  | { kind: "failed"; step: Step; failure: Failure }
  | { kind: "interrupted"; step: Step }
  | { kind: "skipped"; dependency: string };

/** Options of {@link workspaceEvents}. */
export interface ScriptOptions {
  outcome?: Outcome;
  /** Start, in ms after T0. */
  start?: number;
  port?: number;
  tokens?: TokenUsage;
  diff?: DiffStat;
  commit?: string;
  finalMessage?: string;
  /** Whether the workspace has a check script (the check step is skipped otherwise). */
  hasCheck?: boolean;
}

const STEP_MS = 1000;

/**
 * The events of one workspace going through every step, each step taking one second, until its
 * outcome. Times depend only on the options, never on other workspaces, so a workspace's state is
 * the same whether it ran in a shard or in the whole run.
 */
export function workspaceEvents(workspace: string, options: ScriptOptions = {}): Timed[] {
  const outcome = options.outcome ?? { kind: "succeeded" };
  const start = options.start ?? 0;
  if (outcome.kind === "skipped") {
    const failure: Failure = {
      reason: "dependency-failed",
      step: "worktree",
      message: `dependency ${outcome.dependency} did not succeed`,
      dependency: outcome.dependency,
    };
    return [
      [start, { type: "workspace.finished", workspace, status: "skipped", durationMs: 0, failure }],
    ];
  }
  const timed: Timed[] = [[start, { type: "workspace.started", workspace, try: 1 }]];
  let now = start;
  const steps: Step[] = ["worktree", "copy", "ports", "setup", "agent", "check", "commit"];
  for (const step of steps) {
    timed.push([now, { type: "step.started", workspace, step }]);
    if (outcome.kind === "interrupted" && outcome.step === step) {
      const failure: Failure = { reason: "cancelled", step, message: "interrupted by SIGINT" };
      timed.push([
        now + 500,
        { type: "step.finished", workspace, step, status: "failed", durationMs: 500, failure },
      ]);
      timed.push([
        now + 500,
        {
          type: "workspace.finished",
          workspace,
          status: "interrupted",
          durationMs: now + 500 - start,
          failure,
        },
      ]);
      return timed;
    }
    if (step === "agent") {
      timed.push([
        now + 100,
        {
          type: "agent.activity",
          workspace,
          activity: { kind: "session", sessionId: `thread-${workspace}` },
        },
      ]);
      timed.push([
        now + 200,
        {
          type: "agent.activity",
          workspace,
          activity: { kind: "command", command: "npm test", exitCode: undefined },
        },
      ]);
      timed.push([
        now + 300,
        {
          type: "agent.activity",
          workspace,
          activity: { kind: "file-change", paths: ["src/app.ts"] },
        },
      ]);
      timed.push([
        now + 400,
        {
          type: "agent.activity",
          workspace,
          activity: { kind: "usage", usage: options.tokens ?? usage(1000, 200) },
        },
      ]);
    }
    if (outcome.kind === "failed" && outcome.step === step) {
      timed.push([
        now + STEP_MS,
        {
          type: "step.finished",
          workspace,
          step,
          status: "failed",
          durationMs: STEP_MS,
          ...(step === "check" ? { result: { step: "check", passed: false } as const } : {}),
          failure: outcome.failure,
        },
      ]);
      now += STEP_MS;
      // Like the executor: a failed check still commits the work, then fails the workspace.
      if (step === "check") {
        timed.push([now, { type: "step.started", workspace, step: "commit" }]);
        timed.push([
          now + STEP_MS,
          {
            type: "step.finished",
            workspace,
            step: "commit",
            status: "succeeded",
            durationMs: STEP_MS,
            ...stepResult(workspace, "commit", options, false),
          },
        ]);
        now += STEP_MS;
      }
      timed.push([
        now,
        {
          type: "workspace.finished",
          workspace,
          status: "failed",
          durationMs: now - start,
          failure: outcome.failure,
        },
      ]);
      return timed;
    }
    const skipped = step === "check" && options.hasCheck === false;
    timed.push([
      now + STEP_MS,
      {
        type: "step.finished",
        workspace,
        step,
        status: skipped ? "skipped" : "succeeded",
        durationMs: STEP_MS,
        ...stepResult(workspace, step, options, skipped),
      },
    ]);
    now += STEP_MS;
  }
  timed.push([
    now,
    { type: "workspace.finished", workspace, status: "succeeded", durationMs: now - start },
  ]);
  return timed;
}

function stepResult(
  workspace: string,
  step: Step,
  options: ScriptOptions,
  skipped: boolean,
): { result?: NonNullable<Extract<EventBody, { type: "step.finished" }>["result"]> } {
  switch (step) {
    case "worktree":
      return {
        result: {
          step,
          path: `/home/dev/.conductor/workspaces/webapp/${workspace}`,
          branch: `conductor/${workspace}`,
          startCommit: FACTS.baseCommit,
        },
      };
    case "copy":
      return { result: { step, copied: [".env.local"] } };
    case "ports":
      return { result: { step, port: options.port ?? 41000 } };
    case "setup":
      return {};
    case "agent":
      return {
        result: {
          step,
          sessionId: `thread-${workspace}`,
          usage: options.tokens ?? usage(1000, 200),
          finalMessage: options.finalMessage ?? `Done with ${workspace}.`,
        },
      };
    case "check":
      return skipped ? {} : { result: { step, passed: true } };
    case "commit":
      return {
        result: {
          step,
          commit: options.commit ?? "c0ffee0000000000000000000000000000000000",
          diff: options.diff ?? { files: 2, insertions: 10, deletions: 3 },
        },
      };
    default:
      return {};
  }
}

/** A whole run: run.started, the workspaces' events, and run.finished after the last of them. */
export function runEvents(
  plan: Plan,
  workspaces: readonly Timed[],
  options: { status?: RunState["status"]; runId?: string; resumed?: boolean } = {},
): RunEvent[] {
  const last = workspaces.reduce((max, [ms]) => Math.max(max, ms), 0);
  const finish = last + 1;
  return toEvents(
    [
      [
        0,
        { type: "run.started", plan, resumed: options.resumed ?? false, concurrency: 4, pid: 4242 },
      ],
      ...workspaces,
      [
        finish,
        {
          type: "run.finished",
          status: options.status ?? "succeeded",
          durationMs: finish,
          counts: { pending: 0, running: 0, succeeded: 0, failed: 0, skipped: 0, interrupted: 0 },
        },
      ],
    ],
    options.runId ?? RUN_ID,
  );
}

/** The state after a run's events, folded with the real reducer. */
export function foldRun(plan: Plan, events: readonly RunEvent[], runId = RUN_ID): RunState {
  return applyEvents(initialRunState({ runId, plan, createdAt: at(0), pid: 4242 }), events);
}

/** The log of fix-bug's failed check in {@link mixedRunEvents}. */
export const FIX_BUG_LOG = "/repo/webapp/.conductor/runs/r/workspaces/fix-bug/check.log";

/** The failure of fix-bug in {@link mixedRunEvents}. */
export const FIX_BUG_FAILURE: Failure = {
  reason: "exit-non-zero",
  step: "check",
  message: "check exited with code 1",
  exitCode: 1,
  logPath: FIX_BUG_LOG,
};

/** A mixed run of {@link CONFIG_YAML}: succeeded, failed, skipped and interrupted workspaces. */
export function mixedRun(plan: Plan = makePlan()): RunState {
  return foldRun(plan, mixedRunEvents(plan));
}

/** The events of {@link mixedRun}. */
export function mixedRunEvents(plan: Plan = makePlan()): RunEvent[] {
  const failure = FIX_BUG_FAILURE;
  return runEvents(
    plan,
    [
      ...workspaceEvents("add-auth", { start: 0, tokens: usage(12000, 345), hasCheck: true }),
      ...workspaceEvents("fix-bug", {
        start: 10,
        outcome: { kind: "failed", step: "check", failure },
      }),
      ...workspaceEvents("fix-bug-2", {
        start: 20,
        outcome: { kind: "interrupted", step: "agent" },
      }),
      ...workspaceEvents("lint", {
        start: 30,
        hasCheck: false,
        diff: { files: 1, insertions: 1, deletions: 1 },
      }),
      ...workspaceEvents("refactor-model-o4-mini", {
        start: 40,
        outcome: {
          kind: "failed",
          step: "agent",
          failure: {
            reason: "agent-error",
            step: "agent",
            message: "unexpected status 401 Unauthorized",
          },
        },
      }),
      ...workspaceEvents("refactor-model-gpt-5", { start: 50 }),
      ...workspaceEvents("auth-docs", { start: 8000 }),
    ],
    { status: "interrupted" },
  );
}
