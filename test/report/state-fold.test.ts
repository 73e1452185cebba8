import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/executor/events.js";
import {
  applyEvent,
  applyEvents,
  countWorkspaces,
  initialRunState,
} from "../../src/executor/state-fold.js";
import type { Failure, RunState } from "../../src/executor/types.js";
import { runWorkedMs } from "../../src/executor/worked-time.js";
import {
  at,
  type EventBody,
  foldRun,
  makePlan,
  mixedRun,
  RUN_ID,
  runEvents,
  toEvents,
  usage,
  workspaceEvents,
} from "./fixtures.js";

const plan = makePlan();

function fresh(): RunState {
  return initialRunState({ runId: RUN_ID, plan, createdAt: at(0), pid: 99 });
}

function event(ms: number, body: EventBody): RunEvent {
  return { time: at(ms), runId: RUN_ID, ...body } as RunEvent;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const checkFailure: Failure = {
  reason: "exit-non-zero",
  step: "check",
  message: "check exited with code 1",
  exitCode: 1,
  logPath: "/logs/check.log",
};

describe("initialRunState", () => {
  it("lists every planned workspace as pending, in plan order", () => {
    const state = fresh();
    expect(Object.keys(state.workspaces)).toEqual(plan.workspaces.map((w) => w.name));
    expect(state.status).toBe("running");
    expect(state.createdAt).toBe(at(0));
    expect(state.updatedAt).toBe(at(0));
    expect(state.pid).toBe(99);
    expect(state.workspaces["add-auth"]).toEqual({
      name: "add-auth",
      status: "pending",
      step: undefined,
      tries: 0,
      steps: {},
      worktreeCreated: false,
      copied: [],
      agent: {},
    });
  });

  it("marks the check of a workspace without a check script as none from the start", () => {
    expect(fresh().workspaces.lint?.check).toBe("none");
    expect(fresh().workspaces["add-auth"]?.check).toBeUndefined();
  });
});

describe("applyEvent", () => {
  it("records every step of a successful workspace with its timings and results", () => {
    const state = foldRun(plan, runEvents(plan, workspaceEvents("add-auth", { port: 41010 })));
    const workspace = state.workspaces["add-auth"];
    expect(workspace).toMatchObject({
      status: "succeeded",
      step: "commit",
      tries: 1,
      startedAt: at(0),
      finishedAt: at(7000),
      durationMs: 7000,
      worktreeCreated: true,
      port: 41010,
      copied: [".env.local"],
      check: "passed",
      commit: "c0ffee0000000000000000000000000000000000",
      diff: { files: 2, insertions: 10, deletions: 3 },
      agent: {
        sessionId: "thread-add-auth",
        usage: usage(1000, 200),
        finalMessage: "Done with add-auth.",
        lastActivity: { kind: "file-change", paths: ["src/app.ts"] },
      },
    });
    expect(workspace?.failure).toBeUndefined();
    expect(workspace?.steps.setup).toEqual({
      status: "succeeded",
      startedAt: at(3000),
      finishedAt: at(4000),
      durationMs: 1000,
      totalMs: 1000,
    });
    expect(Object.keys(workspace?.steps ?? {})).toEqual([
      "worktree",
      "copy",
      "ports",
      "setup",
      "agent",
      "check",
      "commit",
    ]);
    expect(state.status).toBe("succeeded");
    expect(state.finishedAt).toBe(at(7001));
    expect(state.updatedAt).toBe(at(7001));
  });

  it("shows the running step and its open record while a workspace works", () => {
    const state = applyEvents(fresh(), [
      event(0, { type: "workspace.started", workspace: "fix-bug", try: 1 }),
      event(5, { type: "step.started", workspace: "fix-bug", step: "setup" }),
    ]);
    expect(state.workspaces["fix-bug"]).toMatchObject({
      status: "running",
      step: "setup",
      tries: 1,
      startedAt: at(0),
      steps: { setup: { status: "running", startedAt: at(5) } },
    });
    expect(state.workspaces["fix-bug"]?.steps.setup?.finishedAt).toBeUndefined();
  });

  it("keeps the last agent activity when only usage or the session changes", () => {
    const state = applyEvents(fresh(), [
      event(0, { type: "step.started", workspace: "lint", step: "agent" }),
      event(1, {
        type: "agent.activity",
        workspace: "lint",
        activity: { kind: "command", command: "npm test", exitCode: undefined },
      }),
      event(2, {
        type: "agent.activity",
        workspace: "lint",
        activity: { kind: "usage", usage: usage(500, 20) },
      }),
      event(3, {
        type: "agent.activity",
        workspace: "lint",
        activity: { kind: "session", sessionId: "t-1" },
      }),
    ]);
    expect(state.workspaces.lint?.agent).toEqual({
      sessionId: "t-1",
      usage: usage(500, 20),
      lastActivity: { kind: "command", command: "npm test", exitCode: undefined },
    });
  });

  it("takes the latest agent message as the final message until the agent step reports one", () => {
    const messages = applyEvents(fresh(), [
      event(0, { type: "step.started", workspace: "lint", step: "agent" }),
      event(1, {
        type: "agent.activity",
        workspace: "lint",
        activity: { kind: "message", text: "Looking around." },
      }),
      event(2, {
        type: "agent.activity",
        workspace: "lint",
        activity: { kind: "message", text: "All fixed." },
      }),
    ]);
    expect(messages.workspaces.lint?.agent.finalMessage).toBe("All fixed.");
    const finished = applyEvent(
      messages,
      event(3, {
        type: "step.finished",
        workspace: "lint",
        step: "agent",
        status: "succeeded",
        durationMs: 3,
        result: { step: "agent", finalMessage: "Fixed 4 lint warnings." },
      }),
    );
    expect(finished.workspaces.lint?.agent.finalMessage).toBe("Fixed 4 lint warnings.");
    // A result without a message does not erase what the activity told.
    const silent = applyEvent(
      messages,
      event(3, {
        type: "step.finished",
        workspace: "lint",
        step: "agent",
        status: "failed",
        durationMs: 3,
        result: { step: "agent" },
        failure: { reason: "agent-error", step: "agent", message: "rate limited" },
      }),
    );
    expect(silent.workspaces.lint?.agent.finalMessage).toBe("All fixed.");
  });

  it("records a failed check with its failure, and the commit made after it", () => {
    const state = foldRun(
      plan,
      runEvents(
        plan,
        workspaceEvents("fix-bug", {
          outcome: { kind: "failed", step: "check", failure: checkFailure },
        }),
        { status: "failed" },
      ),
    );
    const workspace = state.workspaces["fix-bug"];
    expect(workspace).toMatchObject({
      status: "failed",
      // The commit ran last, but the workspace stopped because of the check.
      step: "check",
      check: "failed",
      failure: checkFailure,
      durationMs: 7000,
      commit: "c0ffee0000000000000000000000000000000000",
    });
    expect(workspace?.steps.check?.status).toBe("failed");
    expect(workspace?.steps.commit?.status).toBe("succeeded");
    expect(state.status).toBe("failed");
  });

  it("judges a check without a result by its status, and a cancelled check not at all", () => {
    const finish = (status: "succeeded" | "failed" | "skipped", failure?: Failure) =>
      applyEvents(fresh(), [
        event(0, { type: "step.started", workspace: "add-auth", step: "check" }),
        event(1, {
          type: "step.finished",
          workspace: "add-auth",
          step: "check",
          status,
          durationMs: 1,
          ...(failure ? { failure } : {}),
        }),
      ]).workspaces["add-auth"]?.check;
    expect(finish("succeeded")).toBe("passed");
    expect(finish("skipped")).toBe("none");
    expect(finish("failed", checkFailure)).toBe("failed");
    expect(
      finish("failed", { reason: "cancelled", step: "check", message: "interrupted" }),
    ).toBeUndefined();
  });

  it("retries a failed step in a fresh state, counting every retry used", () => {
    const setupFailure: Failure = {
      reason: "exit-non-zero",
      step: "setup",
      message: "setup exited with code 1",
      exitCode: 1,
    };
    // The executor's order: the step fails, the workspace retries it, the step starts again.
    const retried = applyEvents(fresh(), [
      event(0, { type: "workspace.started", workspace: "fix-bug", try: 1 }),
      event(0, { type: "step.started", workspace: "fix-bug", step: "setup" }),
      event(10, {
        type: "step.finished",
        workspace: "fix-bug",
        step: "setup",
        status: "failed",
        durationMs: 10,
        failure: setupFailure,
      }),
      event(10, {
        type: "workspace.retrying",
        workspace: "fix-bug",
        step: "setup",
        try: 2,
        failure: setupFailure,
      }),
    ]);
    expect(retried.workspaces["fix-bug"]).toMatchObject({
      status: "running",
      step: "setup",
      tries: 2,
      startedAt: at(0),
    });
    expect(retried.workspaces["fix-bug"]?.failure).toBeUndefined();

    const checkFailing = applyEvents(retried, [
      event(20, { type: "step.started", workspace: "fix-bug", step: "setup" }),
      event(30, {
        type: "step.finished",
        workspace: "fix-bug",
        step: "setup",
        status: "succeeded",
        durationMs: 10,
      }),
      event(30, { type: "step.started", workspace: "fix-bug", step: "check" }),
      event(40, {
        type: "step.finished",
        workspace: "fix-bug",
        step: "check",
        status: "failed",
        durationMs: 10,
        result: { step: "check", passed: false },
        failure: checkFailure,
      }),
      // A second retry, of another step: its event numbers that step's attempts (2 again).
      event(40, {
        type: "workspace.retrying",
        workspace: "fix-bug",
        step: "check",
        try: 2,
        failure: checkFailure,
      }),
      event(50, { type: "step.started", workspace: "fix-bug", step: "check" }),
    ]);
    const workspace = checkFailing.workspaces["fix-bug"];
    expect(workspace).toMatchObject({
      status: "running",
      step: "check",
      tries: 3,
      startedAt: at(0),
      steps: {
        setup: { status: "succeeded", startedAt: at(20), finishedAt: at(30), durationMs: 10 },
        check: { status: "running", startedAt: at(50) },
      },
    });
    // The verdict of the earlier check says nothing about this one.
    expect(workspace?.check).toBeUndefined();
    expect(workspace?.failure).toBeUndefined();

    const done = applyEvents(checkFailing, [
      event(60, {
        type: "step.finished",
        workspace: "fix-bug",
        step: "check",
        status: "succeeded",
        durationMs: 10,
        result: { step: "check", passed: true },
      }),
      event(60, {
        type: "workspace.finished",
        workspace: "fix-bug",
        status: "succeeded",
        durationMs: 60,
      }),
    ]);
    expect(done.workspaces["fix-bug"]).toMatchObject({
      status: "succeeded",
      tries: 3,
      check: "passed",
      durationMs: 60,
    });
    expect(done.workspaces["fix-bug"]?.failure).toBeUndefined();
  });

  it("keeps the first start time when a running workspace is announced again", () => {
    const state = applyEvents(fresh(), [
      event(0, { type: "workspace.started", workspace: "lint", try: 1 }),
      event(50, { type: "workspace.started", workspace: "lint", try: 2 }),
    ]);
    expect(state.workspaces.lint).toMatchObject({ startedAt: at(0), tries: 2 });
  });

  it("forgets only the agent's own results, not its session, when the agent step runs again", () => {
    const succeeded = foldRun(plan, runEvents(plan, workspaceEvents("add-auth")));
    const again = applyEvent(
      succeeded,
      event(9000, { type: "step.started", workspace: "add-auth", step: "agent" }),
    );
    const workspace = again.workspaces["add-auth"];
    expect(workspace?.agent).toEqual({ sessionId: "thread-add-auth" });
    // The new execution's record carries the time of the earlier one, so step totals add up.
    expect(workspace?.steps.agent).toEqual({
      status: "running",
      startedAt: at(9000),
      totalMs: 1000,
    });
    // Steps the executor does not repeat keep their records and results.
    expect(workspace?.steps.setup?.status).toBe("succeeded");
    expect(workspace?.check).toBe("passed");
    expect(workspace?.commit).toBe("c0ffee0000000000000000000000000000000000");
    expect(workspace?.port).toBe(41000);
    expect(workspace?.startCommit).toBe(plan.base.commit);
    const ports = applyEvent(
      succeeded,
      event(9000, { type: "step.started", workspace: "add-auth", step: "ports" }),
    );
    expect(ports.workspaces["add-auth"]?.port).toBeUndefined();
    const commit = applyEvent(
      succeeded,
      event(9000, { type: "step.started", workspace: "add-auth", step: "commit" }),
    );
    // The branch still ends in its commit until the commit step reports what it holds now.
    expect(commit.workspaces["add-auth"]?.commit).toBe(workspace?.commit);
    expect(commit.workspaces["add-auth"]?.diff).toEqual(workspace?.diff);
    // The check of a workspace without a check script stays "none" through a re-run.
    const lint = foldRun(plan, runEvents(plan, workspaceEvents("lint", { hasCheck: false })));
    const lintAgain = applyEvent(
      lint,
      event(9000, { type: "step.started", workspace: "lint", step: "check" }),
    );
    expect(lintAgain.workspaces.lint?.check).toBe("none");
  });

  it("records a workspace skipped because a dependency failed, without starting it", () => {
    const state = foldRun(
      plan,
      runEvents(
        plan,
        workspaceEvents("auth-docs", { outcome: { kind: "skipped", dependency: "add-auth" } }),
      ),
    );
    expect(state.workspaces["auth-docs"]).toMatchObject({
      status: "skipped",
      step: undefined,
      tries: 0,
      durationMs: 0,
      failure: { reason: "dependency-failed", dependency: "add-auth" },
    });
    expect(state.workspaces["auth-docs"]?.startedAt).toBeUndefined();
  });

  it("closes the step an interrupted workspace was in", () => {
    const state = applyEvents(fresh(), [
      event(0, { type: "workspace.started", workspace: "lint", try: 1 }),
      event(0, { type: "step.started", workspace: "lint", step: "agent" }),
      event(1500, {
        type: "workspace.finished",
        workspace: "lint",
        status: "interrupted",
        durationMs: 1500,
        failure: { reason: "cancelled", step: "agent", message: "interrupted by SIGINT" },
      }),
    ]);
    expect(state.workspaces.lint).toMatchObject({
      status: "interrupted",
      step: "agent",
      failure: { reason: "cancelled" },
      steps: {
        agent: { status: "failed", startedAt: at(0), finishedAt: at(1500), durationMs: 1500 },
      },
    });
  });

  it("marks workspaces still running when the run finishes as interrupted", () => {
    const state = applyEvents(fresh(), [
      event(0, { type: "run.started", plan, resumed: false, concurrency: 2, pid: 5 }),
      event(0, { type: "workspace.started", workspace: "lint", try: 1 }),
      event(0, { type: "step.started", workspace: "lint", step: "setup" }),
      event(10, { type: "run.interrupting", signal: "SIGINT" }),
      event(2000, {
        type: "run.finished",
        status: "interrupted",
        durationMs: 2000,
        counts: { pending: 6, running: 1, succeeded: 0, failed: 0, skipped: 0, interrupted: 0 },
      }),
    ]);
    expect(state.status).toBe("interrupted");
    expect(state.finishedAt).toBe(at(2000));
    expect(state.workspaces.lint).toMatchObject({
      status: "interrupted",
      finishedAt: at(2000),
      durationMs: 2000,
      steps: { setup: { status: "failed", durationMs: 2000 } },
    });
    expect(state.workspaces["add-auth"]?.status).toBe("pending");
  });

  it("records that a workspace was archived, and whether its branch went too", () => {
    const state = foldRun(plan, runEvents(plan, workspaceEvents("lint")));
    const archived = applyEvent(
      state,
      event(99_000, { type: "workspace.archived", workspace: "lint", branchDeleted: true }),
    );
    expect(archived.workspaces.lint?.archived).toEqual({ at: at(99_000), branchDeleted: true });
    expect(archived.workspaces.lint?.status).toBe("succeeded");
  });

  it("changes only updatedAt on run.interrupting", () => {
    const before = fresh();
    const after = applyEvent(before, event(5, { type: "run.interrupting", signal: "SIGTERM" }));
    expect(after).toEqual({ ...before, updatedAt: at(5) });
  });

  it("derives the start of a step that was reported only when it finished", () => {
    const state = applyEvent(
      fresh(),
      event(4000, {
        type: "step.finished",
        workspace: "lint",
        step: "ports",
        status: "succeeded",
        durationMs: 250,
        result: { step: "ports", port: 42000 },
      }),
    );
    expect(state.workspaces.lint?.steps.ports).toEqual({
      status: "succeeded",
      startedAt: at(3750),
      finishedAt: at(4000),
      durationMs: 250,
      totalMs: 250,
    });
    expect(state.workspaces.lint?.port).toBe(42000);
  });

  it("records a commit-less result when the agent changed nothing", () => {
    const state = foldRun(
      plan,
      runEvents(plan, [
        ...workspaceEvents("lint").filter(
          ([, body]) => !(body.type === "step.finished" && body.step === "commit"),
        ),
        [
          7000,
          {
            type: "step.finished",
            workspace: "lint",
            step: "commit",
            status: "succeeded",
            durationMs: 1000,
            result: {
              step: "commit",
              commit: undefined,
              diff: { files: 0, insertions: 0, deletions: 0 },
            },
          },
        ],
      ]),
    );
    expect(state.workspaces.lint?.commit).toBeUndefined();
    expect("commit" in (state.workspaces.lint ?? {})).toBe(false);
    expect(state.workspaces.lint?.diff).toEqual({ files: 0, insertions: 0, deletions: 0 });
  });

  it("never changes the state it is given", () => {
    const events = runEvents(plan, [
      ...workspaceEvents("add-auth"),
      ...workspaceEvents("fix-bug", {
        outcome: { kind: "failed", step: "check", failure: checkFailure },
      }),
    ]);
    let state = deepFreeze(fresh());
    for (const next of events) {
      const snapshot = structuredClone(state);
      const result = deepFreeze(applyEvent(state, next));
      expect(state).toEqual(snapshot);
      expect(result).not.toBe(state);
      state = result;
    }
  });

  it("is a fold: the same events always give the same state", () => {
    const events = runEvents(plan, workspaceEvents("add-auth"));
    expect(applyEvents(fresh(), events)).toEqual(events.reduce(applyEvent, fresh()));
    expect(foldRun(plan, events)).toEqual(foldRun(plan, events));
  });

  it("refuses events of another run or of a workspace outside the plan", () => {
    expect(() =>
      applyEvent(fresh(), {
        ...event(1, { type: "run.interrupting", signal: "SIGINT" }),
        runId: "other",
      }),
    ).toThrow(/run other applied to run/);
    expect(() =>
      applyEvent(fresh(), event(1, { type: "workspace.started", workspace: "nope", try: 1 })),
    ).toThrow(/"nope", which is not in the plan/);
  });
});

describe("run.started", () => {
  it("starts a fresh run from the plan it carries", () => {
    const smaller = makePlan({ taskPatterns: ["lint"] });
    const state = applyEvent(
      fresh(),
      event(0, { type: "run.started", plan: smaller, resumed: false, concurrency: 1, pid: 5 }),
    );
    expect(Object.keys(state.workspaces)).toEqual(["lint"]);
    expect(state.plan).toBe(smaller);
  });

  it("on resume keeps succeeded workspaces and reopens the others, keeping their worktrees", () => {
    const finished = mixedRun();
    expect(finished.status).toBe("interrupted");
    const resumed = applyEvent(
      finished,
      event(60_000, { type: "run.started", plan, resumed: true, concurrency: 4, pid: 7 }),
    );
    expect(resumed.status).toBe("running");
    expect(resumed.finishedAt).toBeUndefined();
    expect(resumed.pid).toBe(7);
    expect(resumed.createdAt).toBe(finished.createdAt);
    expect(resumed.workspaces["add-auth"]).toBe(finished.workspaces["add-auth"]);
    for (const name of ["fix-bug", "fix-bug-2", "refactor-model-o4-mini"]) {
      const workspace = resumed.workspaces[name];
      expect(workspace?.status).toBe("pending");
      expect(workspace?.failure).toBeUndefined();
      expect(workspace?.finishedAt).toBeUndefined();
      // The time already spent on it stays: the resumed session adds its own.
      expect(workspace?.durationMs).toBe(finished.workspaces[name]?.durationMs);
      expect(workspace?.worktreeCreated).toBe(true);
    }
    expect(countWorkspaces(resumed)).toEqual({
      pending: 3,
      running: 0,
      succeeded: 4,
      failed: 0,
      skipped: 0,
      interrupted: 0,
    });
    // Starting it again gives it a new start time and try.
    const restarted = applyEvent(
      resumed,
      event(61_000, { type: "workspace.started", workspace: "fix-bug", try: 1 }),
    );
    expect(restarted.workspaces["fix-bug"]).toMatchObject({
      status: "running",
      startedAt: at(61_000),
      tries: 1,
      // Where it stopped last time is no longer where it is.
      step: undefined,
    });
  });
  it("keeps the results of steps a resumed workspace does not repeat", () => {
    const failure: Failure = { ...checkFailure };
    const first = foldRun(
      plan,
      runEvents(
        plan,
        workspaceEvents("fix-bug", { outcome: { kind: "failed", step: "check", failure } }),
        { status: "failed" },
      ),
    );
    // Like the executor on resume: cheap steps run again, setup and agent are skipped because
    // they succeeded, the failed check runs again.
    const resumedEvents = toEvents([
      [60_000, { type: "run.started", plan, resumed: true, concurrency: 4, pid: 8 }],
      [60_000, { type: "workspace.started", workspace: "fix-bug", try: 2 }],
      ...(["worktree", "copy", "ports"] as const).flatMap((step, index): [number, EventBody][] => [
        [60_000 + index * 10, { type: "step.started", workspace: "fix-bug", step }],
        [
          60_005 + index * 10,
          {
            type: "step.finished",
            workspace: "fix-bug",
            step,
            status: "succeeded",
            durationMs: 5,
            ...(step === "ports" ? { result: { step, port: 43000 } } : {}),
          },
        ],
      ]),
      [60_100, { type: "step.started", workspace: "fix-bug", step: "check" }],
      [
        60_200,
        {
          type: "step.finished",
          workspace: "fix-bug",
          step: "check",
          status: "succeeded",
          durationMs: 100,
          result: { step: "check", passed: true },
        },
      ],
      [
        60_200,
        { type: "workspace.finished", workspace: "fix-bug", status: "succeeded", durationMs: 200 },
      ],
    ]);
    const resumed = applyEvents(first, resumedEvents);
    const workspace = resumed.workspaces["fix-bug"];
    expect(workspace).toMatchObject({
      status: "succeeded",
      tries: 2,
      startedAt: at(60_000),
      // The first session's 7s and the resumed session's 200ms.
      durationMs: 7200,
      port: 43000,
      check: "passed",
      commit: "c0ffee0000000000000000000000000000000000",
      agent: { finalMessage: "Done with fix-bug.", sessionId: "thread-fix-bug" },
      steps: {
        setup: { status: "succeeded", startedAt: at(3000), durationMs: 1000 },
        agent: { status: "succeeded" },
        check: { status: "succeeded", startedAt: at(60_100) },
      },
    });
    expect(workspace?.failure).toBeUndefined();
    expect(resumed.pid).toBe(8);
  });
});

describe("countWorkspaces", () => {
  it("counts workspaces by status", () => {
    expect(countWorkspaces(mixedRun())).toEqual({
      pending: 0,
      running: 0,
      succeeded: 4,
      failed: 2,
      skipped: 0,
      interrupted: 1,
    });
  });
});

describe("follow-ups and sessions", () => {
  const lintOnly = makePlan({ taskPatterns: ["lint"] });
  /** A run of lint that took 7s, then `continue lint` a minute later. */
  function followedUp(body: (start: number) => [number, EventBody][]): RunState {
    const first = foldRun(lintOnly, runEvents(lintOnly, workspaceEvents("lint")));
    return applyEvents(
      first,
      toEvents([
        [60_000, { type: "follow-up.started", workspace: "lint", pid: 11 }],
        ...body(60_000),
      ]),
    );
  }

  it("records a follow-up as its own session and adds its time to the workspace's and the run's", () => {
    const state = followedUp((start) => [
      [start, { type: "workspace.started", workspace: "lint", try: 2 }],
      [start + 10, { type: "step.started", workspace: "lint", step: "agent" }],
      [
        start + 2010,
        {
          type: "step.finished",
          workspace: "lint",
          step: "agent",
          status: "succeeded",
          durationMs: 2000,
        },
      ],
      [start + 2010, { type: "step.started", workspace: "lint", step: "commit" }],
      [
        start + 2100,
        {
          type: "step.finished",
          workspace: "lint",
          step: "commit",
          status: "succeeded",
          durationMs: 90,
          result: {
            step: "commit",
            commit: "c0ffee0000000000000000000000000000000000",
            created: false,
            diff: { files: 2, insertions: 10, deletions: 3 },
          },
        },
      ],
      [
        start + 2100,
        { type: "workspace.finished", workspace: "lint", status: "succeeded", durationMs: 2100 },
      ],
      [
        start + 2101,
        {
          type: "follow-up.finished",
          workspace: "lint",
          status: "succeeded",
          durationMs: 2101,
          counts: { pending: 0, running: 0, succeeded: 1, failed: 0, skipped: 0, interrupted: 0 },
        },
      ],
    ]);
    expect(state.sessions).toEqual([
      { kind: "run", startedAt: at(0), finishedAt: at(7001), durationMs: 7001 },
      {
        kind: "follow-up",
        workspace: "lint",
        startedAt: at(60_000),
        finishedAt: at(62_101),
        durationMs: 2101,
      },
    ]);
    expect(state.status).toBe("succeeded");
    expect(state.createdAt).toBe(at(0));
    const lint = state.workspaces.lint;
    // Nothing new to commit: the branch's commit stays the workspace's.
    expect(lint?.commit).toBe("c0ffee0000000000000000000000000000000000");
    expect(lint?.durationMs).toBe(7000 + 2100);
    expect(lint?.steps.agent).toMatchObject({ durationMs: 2000, totalMs: 3000 });
    expect(lint?.steps.setup).toMatchObject({ durationMs: 1000, totalMs: 1000 });
    // The run took its sessions' time, not the minute between them.
    expect(runWorkedMs(state)).toBe(7001 + 2101);
  });

  it("counts a session whose conductor was killed up to its last event", () => {
    const killed = followedUp((start) => [
      [start, { type: "workspace.started", workspace: "lint", try: 2 }],
      [start + 10, { type: "step.started", workspace: "lint", step: "agent" }],
      [
        start + 500,
        {
          type: "agent.activity",
          workspace: "lint",
          activity: { kind: "message", text: "working" },
        },
      ],
    ]);
    expect(runWorkedMs(killed, new Date(at(90_000)))).toBe(7001 + 90_000 - 60_000);
    // A resume later: the killed follow-up ends at its last event.
    const resumed = applyEvent(
      killed,
      event(120_000, {
        type: "run.started",
        plan: lintOnly,
        resumed: true,
        concurrency: 1,
        pid: 12,
      }),
    );
    expect(resumed.sessions?.map((session) => [session.kind, session.durationMs])).toEqual([
      ["run", 7001],
      ["follow-up", 500],
      ["resume", undefined],
    ]);
    expect(resumed.workspaces.lint?.durationMs).toBe(7000 + 500);
    expect(resumed.workspaces.lint?.status).toBe("pending");
  });

  it("reads a follow-up of an older version (a resume reopening one workspace) as a follow-up", () => {
    const first = foldRun(plan, runEvents(plan, workspaceEvents("lint")));
    const state = applyEvent(
      first,
      event(60_000, {
        type: "run.started",
        plan,
        resumed: true,
        concurrency: 1,
        pid: 5,
        reopen: ["lint"],
      }),
    );
    expect(state.sessions?.at(-1)).toEqual({
      kind: "follow-up",
      workspace: "lint",
      startedAt: at(60_000),
    });
  });

  it("leaves the state as it is for a script's output line", () => {
    const state = fresh();
    const next = applyEvent(
      state,
      event(5, { type: "step.output", workspace: "lint", step: "check", line: "ok 1" }),
    );
    expect({ ...next, updatedAt: state.updatedAt }).toEqual(state);
  });
});
