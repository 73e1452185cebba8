import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildRunSummary,
  renderRunSummary,
  SUMMARY_FORMAT_VERSION,
} from "../../src/report/summary.js";
import {
  at,
  foldRun,
  makePlan,
  mixedRun,
  runEvents,
  SECRET,
  toEvents,
  usage,
  workspaceEvents,
} from "./fixtures.js";

describe("JSON summary", () => {
  it("has the documented, versioned shape", () => {
    const summary = buildRunSummary(mixedRun());
    expect(SUMMARY_FORMAT_VERSION).toBe(1);
    expect(Object.keys(summary)).toEqual([
      "formatVersion",
      "runId",
      "planHash",
      "base",
      "status",
      "createdAt",
      "finishedAt",
      "selection",
      "reason",
      "counts",
      "budget",
      "totals",
      "sessions",
      "workspaces",
      "selections",
    ]);
    expect(summary).toMatchObject({
      formatVersion: 1,
      runId: "20260101-100000-abcd",
      planHash: makePlan().hash,
      base: { ref: "main", commit: "0123456789abcdef0123456789abcdef01234567" },
      status: "interrupted",
      createdAt: "2026-01-01T10:00:00.000Z",
      finishedAt: "2026-01-01T10:00:15.001Z",
      selection: { taskPatterns: [], shard: null, totalWorkspaces: 7 },
      counts: { pending: 0, running: 0, succeeded: 4, failed: 2, skipped: 0, interrupted: 1 },
    });
    for (const workspace of summary.workspaces) {
      expect(Object.keys(workspace)).toEqual([
        "name",
        "task",
        "attempt",
        "matrix",
        "branch",
        "path",
        "status",
        "step",
        "tries",
        "failure",
        "durationMs",
        "steps",
        "tokens",
        "cost",
        "agentTimeMs",
        "check",
        "commit",
        "diff",
        "review",
      ]);
    }
  });

  it("describes each workspace in plan order, with its failure", () => {
    const summary = buildRunSummary(mixedRun());
    expect(summary.workspaces.map((w) => w.name)).toEqual(makePlan().workspaces.map((w) => w.name));
    const byName = new Map(summary.workspaces.map((w) => [w.name, w]));
    expect(byName.get("fix-bug")).toEqual({
      name: "fix-bug",
      task: "fix-bug",
      attempt: 1,
      matrix: {},
      branch: "conductor/fix-bug-1",
      path: path.join(makePlan().workspacesDir, "fix-bug"),
      status: "failed",
      step: "check",
      tries: 1,
      failure: {
        reason: "exit-non-zero",
        step: "check",
        message: "check exited with code 1",
        logPath: "/repo/webapp/.conductor/runs/r/workspaces/fix-bug/check.log",
      },
      durationMs: 7000,
      steps: {
        worktree: { status: "succeeded", durationMs: 1000, totalMs: 1000 },
        copy: { status: "succeeded", durationMs: 1000, totalMs: 1000 },
        ports: { status: "succeeded", durationMs: 1000, totalMs: 1000 },
        setup: { status: "succeeded", durationMs: 1000, totalMs: 1000 },
        agent: { status: "succeeded", durationMs: 1000, totalMs: 1000 },
        check: { status: "failed", durationMs: 1000, totalMs: 1000 },
        commit: { status: "succeeded", durationMs: 1000, totalMs: 1000 },
      },
      tokens: {
        inputTokens: 1000,
        cachedInputTokens: 0,
        outputTokens: 200,
        reasoningTokens: 0,
        totalTokens: 1200,
      },
      cost: null,
      agentTimeMs: 1000,
      check: "failed",
      commit: "c0ffee0000000000000000000000000000000000",
      diff: { files: 2, insertions: 10, deletions: 3 },
      review: null,
    });
    expect(byName.get("fix-bug-2")).toMatchObject({
      attempt: 2,
      status: "interrupted",
      step: "agent",
      failure: { reason: "cancelled", step: "agent", logPath: null },
      tokens: null,
      commit: null,
      diff: null,
      check: null,
    });
    expect(byName.get("refactor-model-o4-mini")).toMatchObject({
      task: "refactor",
      matrix: { model: "o4-mini" },
      failure: { reason: "agent-error", message: "unexpected status 401 Unauthorized" },
    });
    expect(byName.get("lint")?.check).toBe("none");
  });

  it("totals tokens and durations over the workspaces", () => {
    const { totals } = buildRunSummary(mixedRun());
    // add-auth used 12000 + 345; five more workspaces used 1000 + 200 each (fix-bug-2 none).
    expect(totals.tokens).toEqual({
      inputTokens: 17_000,
      cachedInputTokens: 0,
      outputTokens: 1345,
      reasoningTokens: 0,
      totalTokens: 18_345,
    });
    expect(totals.durationMs).toBe(15_001);
    expect(totals.workspaceDurationMs).toBe(7000 * 5 + 4500 + 5000);
  });

  it("uses null, not missing keys, for what a run in progress does not know yet", () => {
    const plan = makePlan();
    const events = toEvents([
      [0, { type: "run.started", plan, resumed: false, concurrency: 1, pid: 1 }],
      ...workspaceEvents("lint", { tokens: usage(10, 5) }).slice(0, 3),
    ]);
    const summary = buildRunSummary(foldRun(plan, events));
    expect(summary.status).toBe("running");
    expect(summary.finishedAt).toBeNull();
    expect(summary.totals.durationMs).toBe(1000);
    const pending = summary.workspaces.find((w) => w.name === "add-auth");
    expect(pending).toMatchObject({
      status: "pending",
      step: null,
      tries: 0,
      failure: null,
      durationMs: null,
      tokens: null,
      check: null,
      commit: null,
      diff: null,
    });
    // A running workspace's time counts up to the state's last update (or the given `now`).
    expect(summary.workspaces.find((w) => w.name === "lint")).toMatchObject({
      status: "running",
      step: "worktree",
      durationMs: 1000,
      steps: { worktree: { status: "succeeded", durationMs: 1000, totalMs: 1000 }, agent: null },
    });
    expect(buildRunSummary(foldRun(plan, events), new Date(at(5000))).totals.durationMs).toBe(5000);
  });

  it("never carries environment values, prompts or configuration", () => {
    const state = mixedRun();
    // The state itself holds them (the plan has each workspace's environment and prompt)...
    expect(JSON.stringify(state)).toContain(SECRET);
    // ...the summary does not.
    const text = renderRunSummary(state);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("API_TOKEN");
    expect(text).not.toContain("CONDUCTOR_");
    expect(text).not.toContain("Add authentication to the API.");
    expect(text).not.toContain("npm ci");
  });

  it("renders as JSON that reads back to the summary", () => {
    const state = mixedRun();
    const text = renderRunSummary(state);
    expect(text.endsWith("}\n")).toBe(true);
    expect(JSON.parse(text)).toEqual(buildRunSummary(state));
  });

  it("reports the shard a run covered", () => {
    const plan = makePlan({ shard: { index: 2, count: 3 } });
    const summary = buildRunSummary(foldRun(plan, runEvents(plan, [])));
    expect(summary.selection).toEqual({
      taskPatterns: [],
      shard: { index: 2, count: 3 },
      totalWorkspaces: 7,
    });
    expect(summary.workspaces.map((w) => w.name)).toEqual(["fix-bug", "fix-bug-2"]);
  });
});
