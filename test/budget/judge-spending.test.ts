// What a best-of-N task's judges spent, as the budgets read it from the fold of a run's events.
import { describe, expect, it } from "vitest";
import type { JudgeRecord } from "../../src/executor/events.js";
import { runSpending } from "../../src/executor/spending.js";
import {
  at,
  foldRun,
  makePlan,
  runEvents,
  type Timed,
  toEvents,
  usage,
  workspaceEvents,
} from "../report/fixtures.js";

const ASKED = ["fix-bug", "fix-bug-2"];
const plan = makePlan({ taskPatterns: ["fix-bug"] });
const END = new Date("2026-01-02T00:00:00.000Z");

/** The run of fix-bug's two candidates, then `judging`. */
function spentWith(...judging: Timed[]) {
  const candidates = ASKED.flatMap((name) => workspaceEvents(name, { tokens: usage(1000, 0) }));
  return runSpending(foldRun(plan, runEvents(plan, [...candidates, ...judging])), END, "fix-bug");
}

/** A judge session of fix-bug from `startMs` to `endMs`, as the executor records it. */
function judgeSession(startMs: number, endMs: number, tokens: number): Timed[] {
  return [
    [startMs, { type: "judge.started", task: "fix-bug", asked: ASKED }],
    [
      endMs,
      {
        type: "judge.finished",
        task: "fix-bug",
        agentTimeMs: endMs - startMs,
        usage: usage(tokens, 0),
      },
    ],
  ];
}

function selectionMade(ms: number, judge: JudgeRecord): Timed {
  return [
    ms,
    {
      type: "selection.made",
      task: "fix-bug",
      winner: "fix-bug",
      ranking: { candidates: [], winner: "fix-bug", decidedBy: "judge" },
      manual: false,
      judge,
    },
  ];
}

const CHOSE: JudgeRecord = {
  status: "chose",
  asked: ASKED,
  reasons: "r",
  usage: usage(300, 0),
  agentTimeMs: 2000,
};

describe("a judge's spending", () => {
  it("counts every judge session of the task once: one cut short, and the one that chose", () => {
    const candidates = spentWith();
    const judged = spentWith(
      ...judgeSession(19_000, 20_000, 500),
      ...judgeSession(28_000, 30_000, 300),
      selectionMade(30_001, CHOSE),
    );
    expect(judged.tokens - candidates.tokens).toBe(800);
    expect(judged.agentTimeMs - candidates.agentTimeMs).toBe(3000);
  });

  it("counts a running judge's agent time up to now, and its tokens as they are reported", () => {
    const state = foldRun(
      plan,
      toEvents([
        [0, { type: "run.started", plan, resumed: false, concurrency: 2, pid: 4242 }],
        [10_000, { type: "judge.started", task: "fix-bug", asked: ASKED }],
        [12_000, { type: "judge.usage", task: "fix-bug", usage: usage(400, 100) }],
      ]),
    );
    const spent = runSpending(state, new Date(at(15_000)), "fix-bug");
    expect(spent).toMatchObject({ tokens: 500, agentTimeMs: 5000 });
  });

  it("ends a judge left running by a killed conductor at its last sign of life", () => {
    const killed: Timed[] = [
      [0, { type: "run.started", plan, resumed: false, concurrency: 2, pid: 4242 }],
      [10_000, { type: "judge.started", task: "fix-bug", asked: ASKED }],
      [11_000, { type: "judge.usage", task: "fix-bug", usage: usage(400, 100) }],
      [12_000, { type: "run.interrupting", signal: "SIGINT" }],
    ];
    for (const next of [
      { type: "run.started", plan, resumed: true, concurrency: 2, pid: 4343 },
      { type: "follow-up.started", workspace: "fix-bug", pid: 4343 },
    ] as const) {
      const state = foldRun(plan, toEvents([...killed, [60_000, next]]));
      expect(state.judges?.["fix-bug"]).toEqual([
        { asked: ASKED, startedAt: at(10_000), agentTimeMs: 2000, usage: usage(400, 100) },
      ]);
      // An hour later, it still spent what it had then.
      const spent = runSpending(state, new Date(at(3_600_000)), "fix-bug");
      expect(spent).toMatchObject({ tokens: 500, agentTimeMs: 2000 });
    }
  });

  it("reads the judge of a run recorded before judge sessions were kept from its selection", () => {
    const candidates = spentWith();
    const older = spentWith(selectionMade(30_001, CHOSE));
    expect(older.tokens - candidates.tokens).toBe(300);
    expect(older.agentTimeMs - candidates.agentTimeMs).toBe(2000);
  });
});
