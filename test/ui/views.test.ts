import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/executor/events.js";
import { applyEvents, initialRunState } from "../../src/executor/state-fold.js";
import { pageState, timelineEntry, workspaceRow } from "../../src/ui/views.js";
import { planOf } from "../helpers/planning.js";

const plan = planOf(`version: 1
agent: { kind: command, command: "true" }
tasks:
  - id: search
    prompt: add search
    attempts: 2
  - id: docs
    prompt: write docs
`);
const base = { runId: "r1" };
const at = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, "0")}.000Z`;

function stateAfter(events: RunEvent[]) {
  const initial = initialRunState({ runId: "r1", plan, createdAt: at(0), pid: 1 });
  return applyEvents(initial, events);
}

describe("the page's views of a run", () => {
  it("marks the winner its task's selection picked, and only it", () => {
    const names = plan.workspaces.map((workspace) => workspace.name);
    expect(names).toEqual(["search", "search-2", "docs"]);
    const state = stateAfter([
      { ...base, time: at(1), type: "run.started", plan, resumed: false, concurrency: 2, pid: 1 },
      {
        ...base,
        time: at(2),
        type: "selection.made",
        task: "search",
        winner: "search-2",
        manual: false,
        ranking: { candidates: [], winner: "search-2", decidedBy: "diff" },
      },
    ]);
    const rows = pageState(state).workspaces;
    expect(rows.map((row) => [row.name, row.winner])).toEqual([
      ["search", false],
      ["search-2", true],
      ["docs", false],
    ]);
  });

  it("shows status, step, tokens, check and diff of a workspace as the fold has them", () => {
    const state = stateAfter([
      { ...base, time: at(1), type: "run.started", plan, resumed: false, concurrency: 2, pid: 1 },
      { ...base, time: at(2), type: "workspace.started", workspace: "docs", try: 1 },
      { ...base, time: at(3), type: "step.started", workspace: "docs", step: "agent" },
      {
        ...base,
        time: at(4),
        type: "agent.activity",
        workspace: "docs",
        activity: {
          kind: "usage",
          usage: {
            inputTokens: 1200,
            cachedInputTokens: 200,
            outputTokens: 300,
            reasoningTokens: 100,
          },
        },
      },
      {
        ...base,
        time: at(5),
        type: "agent.activity",
        workspace: "docs",
        activity: { kind: "command", command: "npm test", exitCode: undefined },
      },
    ]);
    const row = workspaceRow(state, "docs", {
      review: { status: "completed", correct: true, byPriority: [0, 0, 1, 0] },
    });
    expect(row).toMatchObject({
      status: "running",
      step: "agent",
      startedAt: at(2),
      tokens: 1500,
      lastActivity: "$ npm test",
      review: { correct: true },
      winner: false,
    });
    expect(workspaceRow(state, "nope")).toBeUndefined();
  });

  it("turns events into timeline lines and leaves bookkeeping out", () => {
    expect(
      timelineEntry({
        ...base,
        time: at(1),
        type: "step.finished",
        workspace: "docs",
        step: "check",
        status: "failed",
        durationMs: 1500,
        failure: {
          reason: "exit-non-zero",
          step: "check",
          message: "check exited with code 1",
          exitCode: 1,
        },
      }),
    ).toEqual({
      time: at(1),
      kind: "step",
      text: "check failed in 1.5 s: check exited with code 1",
      status: "failed",
    });
    expect(
      timelineEntry({
        ...base,
        time: at(1),
        type: "agent.activity",
        workspace: "docs",
        activity: { kind: "session", sessionId: "s" },
      }),
    ).toBeUndefined();
  });
});
