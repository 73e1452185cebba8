import { describe, expect, it } from "vitest";
import { StateError } from "../../src/errors.js";
import { runSpending } from "../../src/executor/spending.js";
import type { Failure, RunState, RunStatus } from "../../src/executor/types.js";
import type { Plan } from "../../src/planner/types.js";
import { renderJUnit } from "../../src/report/junit.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { mergeRunStates } from "../../src/report/merge.js";
import { buildRunSummary } from "../../src/report/summary.js";
import {
  foldRun,
  makePlan,
  type Outcome,
  RUN_ID,
  runEvents,
  type ScriptOptions,
  type Timed,
  usage,
  workspaceEvents,
} from "./fixtures.js";

const checkFailure: Failure = {
  reason: "exit-non-zero",
  step: "check",
  message: "check exited with code 1",
  exitCode: 1,
  logPath: "/logs/check.log",
};

/** How every workspace of the plan goes, wherever it runs: its start time and outcome. */
const SCRIPT: Record<string, ScriptOptions> = {
  "add-auth": { start: 0, tokens: usage(5000, 500) },
  "auth-docs": { start: 9000 },
  "fix-bug": { start: 100, outcome: { kind: "failed", step: "check", failure: checkFailure } },
  "fix-bug-2": { start: 200, outcome: { kind: "interrupted", step: "agent" } },
  lint: { start: 300, hasCheck: false },
  "refactor-model-o4-mini": {
    start: 400,
    outcome: {
      kind: "failed",
      step: "agent",
      failure: { reason: "agent-error", step: "agent", message: "401" },
    },
  },
  "refactor-model-gpt-5": { start: 500, diff: { files: 9, insertions: 90, deletions: 9 } },
};

/** The run status the executor gives a set of outcomes. */
function runStatus(outcomes: readonly Outcome["kind"][]): RunStatus {
  if (outcomes.includes("interrupted")) return "interrupted";
  return outcomes.every((kind) => kind === "succeeded") ? "succeeded" : "failed";
}

/** The state of running `plan` (the whole plan or one shard) with the outcomes of {@link SCRIPT}. */
function run(plan: Plan, runId = RUN_ID): RunState {
  const names = plan.workspaces.map((workspace) => workspace.name);
  const events = runEvents(
    plan,
    names.flatMap((name) => workspaceEvents(name, SCRIPT[name])),
    { status: runStatus(names.map((name) => SCRIPT[name]?.outcome?.kind ?? "succeeded")), runId },
  );
  return foldRun(plan, events, runId);
}

function shards(count: number, runIds?: string[]): RunState[] {
  return Array.from({ length: count }, (_, index) =>
    run(makePlan({ shard: { index: index + 1, count } }), runIds?.[index] ?? RUN_ID),
  );
}

describe("mergeRunStates", () => {
  it("merges three shard states into the state of the same plan run unsharded", () => {
    const parts = shards(3);
    // Each shard really ran only part of the plan.
    expect(parts.map((part) => Object.keys(part.workspaces))).toEqual([
      ["add-auth", "lint", "auth-docs"],
      ["fix-bug", "fix-bug-2"],
      ["refactor-model-o4-mini", "refactor-model-gpt-5"],
    ]);
    expect(parts.map((part) => part.status)).toEqual(["succeeded", "interrupted", "failed"]);
    const whole = run(makePlan());
    const merged = mergeRunStates(parts);
    expect(merged).toStrictEqual(whole);
    expect(Object.keys(merged.workspaces)).toEqual(Object.keys(whole.workspaces));
  });

  it("gives the same reports as the unsharded run, in any order of the shards", () => {
    const [first, second, third] = shards(3) as [RunState, RunState, RunState];
    const whole = run(makePlan());
    const merged = mergeRunStates([third, first, second]);
    expect(buildRunSummary(merged)).toEqual(buildRunSummary(whole));
    expect(renderJUnit(merged)).toBe(renderJUnit(whole));
    expect(renderMarkdown(merged)).toBe(renderMarkdown(whole));
  });

  it("keeps what a task's judges spent, from the shard that ran them", () => {
    const judge: Timed[] = [
      [8000, { type: "judge.started", task: "fix-bug", asked: ["fix-bug", "fix-bug-2"] }],
      [
        12_000,
        { type: "judge.finished", task: "fix-bug", agentTimeMs: 4000, usage: usage(900, 100) },
      ],
    ];
    const judged = (plan: Plan) => {
      const names = plan.workspaces.map((workspace) => workspace.name);
      const timed = names.flatMap((name) => workspaceEvents(name, SCRIPT[name]));
      if (names.includes("fix-bug")) timed.push(...judge);
      return foldRun(plan, runEvents(plan, timed));
    };
    const whole = judged(makePlan());
    const merged = mergeRunStates(
      [1, 2, 3].map((index) => judged(makePlan({ shard: { index, count: 3 } }))),
    );
    expect(merged.judges).toStrictEqual(whole.judges);
    const end = new Date(whole.updatedAt);
    expect(runSpending(merged, end)).toEqual(runSpending(whole, end));
  });

  it("refuses states of different plans, naming the runs and their plans", () => {
    const [first] = shards(2);
    const changed = makePlan({
      yaml: "version: 1\ntasks:\n  - id: other\n    prompt: Something else.\n",
    });
    const other = run(changed, "run-b");
    expect(first?.plan.hash).not.toBe(changed.hash);
    let error: unknown;
    try {
      mergeRunStates([first as RunState, other]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).message).toBe(
      `run run-b ran plan ${changed.hash.slice(0, 12)}, but run ${RUN_ID} ran plan ${first?.plan.hash.slice(0, 12)}: only shards of the same plan can be merged`,
    );
    expect((error as StateError).hint).toMatch(/run every shard again/);
  });

  it("refuses a shard given twice, and nothing at all", () => {
    const [first] = shards(2);
    expect(() => mergeRunStates([first as RunState, first as RunState])).toThrow(StateError);
    expect(() => mergeRunStates([first as RunState, first as RunState])).toThrow(
      /workspace add-auth is in both run/,
    );
    expect(() => mergeRunStates([])).toThrow(StateError);
  });

  it("joins the ids of shard runs that had their own", () => {
    const merged = mergeRunStates(shards(3, ["r1", "r2", "r3"]));
    expect(merged.runId).toBe("r1+r2+r3");
  });

  it("takes the status of the least finished shard", () => {
    const [a, b] = shards(2) as [RunState, RunState];
    const withStatus = (state: RunState, status: RunStatus) => ({ ...state, status });
    expect(mergeRunStates([withStatus(a, "succeeded"), withStatus(b, "succeeded")]).status).toBe(
      "succeeded",
    );
    expect(mergeRunStates([withStatus(a, "failed"), withStatus(b, "succeeded")]).status).toBe(
      "failed",
    );
    expect(mergeRunStates([withStatus(a, "failed"), withStatus(b, "interrupted")]).status).toBe(
      "interrupted",
    );
    expect(mergeRunStates([withStatus(a, "interrupted"), withStatus(b, "running")]).status).toBe(
      "running",
    );
  });

  it("leaves the run unfinished while a shard is, and spans all shards in time", () => {
    const [a, b] = shards(2) as [RunState, RunState];
    const { finishedAt: _unfinished, ...running } = { ...b, status: "running" as const };
    const merged = mergeRunStates([a, running]);
    expect(merged.finishedAt).toBeUndefined();
    expect(merged.updatedAt).toBe([a.updatedAt, b.updatedAt].sort().at(-1));
    const late = { ...a, createdAt: "2026-01-01T09:00:00.000Z" };
    expect(mergeRunStates([b, late]).createdAt).toBe("2026-01-01T09:00:00.000Z");
  });

  it("describes the union in plan.selection", () => {
    const plan = makePlan({ taskPatterns: ["lint", "fix-*"], shard: { index: 1, count: 2 } });
    const other = makePlan({ taskPatterns: ["lint", "fix-*"], shard: { index: 2, count: 2 } });
    const merged = mergeRunStates([run(plan), run(other)]);
    expect(merged.plan.selection).toEqual({
      taskPatterns: ["lint", "fix-*"],
      shard: undefined,
      totalWorkspaces: 7,
    });
    expect(merged.plan.workspaces.map((w) => w.name)).toEqual(["fix-bug", "fix-bug-2", "lint"]);
    expect(merged.plan.levels).toEqual([["fix-bug", "fix-bug-2", "lint"]]);
    expect(merged.plan).toStrictEqual(makePlan({ taskPatterns: ["lint", "fix-*"] }));
  });

  it("refuses shards of a plan with one missing, naming it, unless asked for a partial report", () => {
    const [first, second, third] = shards(3) as [RunState, RunState, RunState];
    let error: unknown;
    try {
      mergeRunStates([first, third]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).message).toMatch(/shard 2\/3 of the plan is missing/);
    expect((error as StateError).hint).toMatch(/--partial/);
    expect(() => mergeRunStates([second])).toThrow(/shards 1\/3, 3\/3 of the plan are missing/);
    const partial = mergeRunStates([first, third], { partial: true });
    expect(new Set(Object.keys(partial.workspaces))).toEqual(
      new Set([...Object.keys(first.workspaces), ...Object.keys(third.workspaces)]),
    );
  });

  it("refuses shards of different splits, which can cover every index and still miss workspaces", () => {
    const plan = (index: number, count: number, taskPatterns?: string[]) =>
      makePlan({ shard: { index, count }, ...(taskPatterns ? { taskPatterns } : {}) });
    // 1/4 and 2/2 share no workspace and hold shard indexes 1 and 2 "of 2", yet together they
    // are not the plan: the workspaces of 1/2 that 1/4 does not have ran nowhere.
    const oneOfFour = run(plan(1, 4), "run-a");
    const twoOfTwo = run(plan(2, 2), "run-b");
    const names = [...Object.keys(oneOfFour.workspaces), ...Object.keys(twoOfTwo.workspaces)];
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeLessThan(makePlan().workspaces.length);
    for (const partial of [false, true]) {
      let error: unknown;
      try {
        mergeRunStates([oneOfFour, twoOfTwo], { partial });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(StateError);
      expect((error as StateError).message).toBe(
        "run run-b is shard 2/2, but run run-a is shard 1/4: only shards of one split (one `plan --matrix`, the same tasks) can be merged",
      );
      expect((error as StateError).hint).toMatch(/--shard i\/n/);
    }
    // Shards of the same count over different tasks are different splits too.
    expect(() =>
      mergeRunStates([run(plan(1, 2, ["lint"]), "run-a"), run(plan(2, 2, ["fix-*"]), "run-b")]),
    ).toThrow("run run-b is shard 2/2 of fix-*, but run run-a is shard 1/2 of lint");
  });

  it("returns a single state as it is", () => {
    const [only] = shards(1);
    expect(mergeRunStates([only as RunState])).toBe(only);
  });
});
