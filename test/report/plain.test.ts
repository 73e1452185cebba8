import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/executor/events.js";
import type { DiffStat } from "../../src/executor/types.js";
import { createPlainReporter, formatPlainEvent } from "../../src/report/plain.js";
import {
  FIX_BUG_FAILURE,
  FIX_BUG_LOG,
  foldRun,
  makePlan,
  mixedRunEvents,
  RUN_ID,
  runEvents,
  SECRET,
  type Timed,
  toEvents,
  workspaceEvents,
} from "./fixtures.js";

const plan = makePlan();

/** What a commit step's result says besides the branch's diff. */
type CommitResult = { commit: string; created: boolean; commitDiff?: DiffStat };

async function render(events: readonly RunEvent[], color = false): Promise<string[]> {
  const writes: string[] = [];
  const reporter = createPlainReporter({ write: (text) => writes.push(text), color });
  for (const event of events) reporter.onEvent(event);
  await reporter.close();
  return writes;
}

function lines(writes: readonly string[]): string[] {
  return writes.join("").split("\n");
}

describe("plain reporter", () => {
  it("prints one greppable line per event, tagged with the workspace", async () => {
    const output = lines(await render(mixedRunEvents(plan)));
    expect(output[0]).toBe(
      `conductor: run ${RUN_ID} started: 7 workspaces, concurrency 4, plan ${plan.hash.slice(0, 12)}, base main (0123456789)`,
    );
    expect(output).toContain("[add-auth] started");
    expect(output).toContain("[add-auth] setup started");
    expect(output).toContain("[add-auth] setup done in 1.0s");
    expect(output).toContain("[add-auth] ports done in 1.0s — port 41000");
    expect(output).toContain("[add-auth] agent: session thread-add-auth");
    expect(output).toContain("[add-auth] agent: running npm test");
    expect(output).toContain("[add-auth] agent: editing src/app.ts");
    expect(output).toContain("[add-auth] agent done in 1.0s — 12.3k tokens");
    expect(output).toContain("[add-auth] commit done in 1.0s — commit c0ffee0000 (2 files +10 −3)");
    expect(output).toContain("[add-auth] ✔ succeeded in 7.0s");
    expect(output).toContain(`[fix-bug] ✖ check failed (exit 1) after 1.0s — log: ${FIX_BUG_LOG}`);
    expect(output).toContain(
      `[fix-bug] ✖ failed after 7.0s: check failed (exit 1) — log: ${FIX_BUG_LOG}`,
    );
    expect(output).toContain("[lint] check skipped");
    expect(output).toContain("[fix-bug-2] ■ agent cancelled after 500ms");
    expect(output).toContain("[fix-bug-2] ■ interrupted during agent after 4.5s");
    expect(output).toContain(
      "[refactor-model-o4-mini] ✖ failed after 5.0s: agent error: unexpected status 401 Unauthorized",
    );
    expect(output).toContain(`conductor: run ${RUN_ID} interrupted in 15.0s`);
  });

  it("announces a follow-up as a follow-up, and gives a commit's own change", async () => {
    const earlier = foldRun(plan, mixedRunEvents(plan));
    const writes: string[] = [];
    const reporter = createPlainReporter({
      write: (text) => writes.push(text),
      initialState: earlier,
    });
    const commit = (at: number, result: CommitResult): Timed => [
      at,
      {
        type: "step.finished",
        workspace: "fix-bug",
        step: "commit",
        status: "succeeded",
        durationMs: 100,
        result: { step: "commit", diff: { files: 2, insertions: 10, deletions: 3 }, ...result },
      },
    ];
    for (const event of toEvents([
      [60_000, { type: "follow-up.started", workspace: "fix-bug", pid: 3 }],
      [60_000, { type: "workspace.started", workspace: "fix-bug", try: 2 }],
      [60_001, { type: "step.output", workspace: "fix-bug", step: "check", line: "ok" }],
      commit(60_100, {
        commit: "feed000000000000000000000000000000000000",
        created: true,
        commitDiff: { files: 1, insertions: 1, deletions: 1 },
      }),
      commit(60_200, { commit: "feed000000000000000000000000000000000000", created: false }),
      [
        60_300,
        {
          type: "follow-up.finished",
          workspace: "fix-bug",
          status: "failed",
          durationMs: 300,
          counts: { pending: 0, running: 0, succeeded: 5, failed: 1, skipped: 0, interrupted: 1 },
        },
      ],
    ])) {
      reporter.onEvent(event);
    }
    await reporter.close();
    const output = lines(writes);
    expect(output[0]).toBe(`conductor: follow-up of fix-bug in run ${RUN_ID}`);
    expect(output[1]).toBe("[fix-bug] follow-up started");
    // A script's output lines are in its log, not in the CI log.
    expect(output.some((line) => line.endsWith("ok"))).toBe(false);
    expect(output).toContain("[fix-bug] commit done in 100ms — commit feed000000 (1 file +1 −1)");
    expect(output).toContain(
      "[fix-bug] commit done in 100ms — nothing new to commit; the branch stays at feed000000",
    );
    expect(output).toContain(
      `conductor: follow-up of fix-bug ended in 300ms; run ${RUN_ID} is failed: 5 succeeded, 1 failed, 1 interrupted`,
    );
    expect(output.join("\n")).not.toContain("resumed");
  });

  it("says a prepared workspace waits for a slot", () => {
    const event: RunEvent = {
      type: "workspace.waiting",
      workspace: "add-auth",
      step: "setup",
      time: "2026-01-01T10:00:01.000Z",
      runId: RUN_ID,
    };
    expect(formatPlainEvent(event, undefined)).toBe("[add-auth] ready, waiting for a slot\n");
  });

  it("writes whole lines, never a partial one", async () => {
    for (const text of await render(mixedRunEvents(plan))) expect(text.endsWith("\n")).toBe(true);
  });

  it("ends with a summary table of every workspace", async () => {
    const output = lines(await render(mixedRunEvents(plan)));
    const header = output.findIndex((line) => line.startsWith("WORKSPACE"));
    expect(header).toBeGreaterThan(0);
    expect(output[header]).toMatch(
      /^WORKSPACE\s+STATUS\s+STEP\s+DURATION\s+TOKENS\s+FILES\s+CHECK$/,
    );
    const rows = output.slice(header + 1, header + 1 + plan.workspaces.length);
    expect(rows.map((row) => row.split(/\s+/)[0])).toEqual(plan.workspaces.map((w) => w.name));
    expect(rows[0]).toMatch(
      /^add-auth\s+succeeded\s+commit\s+7\.0s\s+12\.3k\s+2 files \+10 −3\s+passed$/,
    );
    expect(rows[1]).toMatch(
      /^fix-bug\s+failed\s+check\s+7\.0s\s+1\.2k\s+2 files \+10 −3\s+failed$/,
    );
    expect(output[header + 1 + plan.workspaces.length]).toBe(
      "7 workspaces: 4 succeeded, 2 failed, 0 skipped, 1 interrupted",
    );
  });

  it("tags every line of the run with the workspace or conductor", async () => {
    const output = lines(await render(mixedRunEvents(plan)));
    const tableStart = output.findIndex((line) => line.startsWith("WORKSPACE"));
    for (const line of output.slice(0, tableStart)) {
      if (line === "") continue;
      expect(line).toMatch(/^(\[[a-z0-9.-]+\] |conductor: )/);
    }
  });

  it("prints no colours unless asked", async () => {
    const plain = (await render(mixedRunEvents(plan))).join("");
    expect(plain).not.toContain("\u001b[");
    const coloured = (await render(mixedRunEvents(plan), true)).join("");
    expect(coloured).toContain("\u001b[32m✔\u001b[39m");
    expect(coloured).toContain("\u001b[31m✖\u001b[39m");
  });

  it("leaves token usage updates out", async () => {
    const output = lines(await render(runEvents(plan, workspaceEvents("lint"))));
    expect(output.some((line) => line.includes("agent:") && line.includes("tokens"))).toBe(false);
  });

  it("keeps agent output to one clean line", async () => {
    const events = toEvents([
      [0, { type: "run.started", plan, resumed: false, concurrency: 1, pid: 1 }],
      [
        1,
        {
          type: "agent.activity",
          workspace: "lint",
          activity: {
            kind: "command",
            command: "npm test &&\n  echo \u001b[31mdone\u001b[0m",
            exitCode: 1,
          },
        },
      ],
      [
        2,
        {
          type: "agent.activity",
          workspace: "lint",
          activity: {
            kind: "message",
            text: `first line\u0007 of the answer\nsecond line ${"x".repeat(400)}`,
          },
        },
      ],
      [
        3,
        {
          type: "agent.activity",
          workspace: "lint",
          activity: { kind: "file-change", paths: ["a.ts", "b.ts", "c.ts"] },
        },
      ],
    ]);
    const output = lines(await render(events));
    expect(output).toContain("[lint] agent: ran npm test && … (exit 1)");
    expect(output).toContain("[lint] agent: says: first line of the answer …");
    expect(output).toContain("[lint] agent: editing a.ts (+2 more)");
  });

  it("reports retries, skips and interrupts", async () => {
    const events = toEvents([
      [0, { type: "run.started", plan, resumed: true, concurrency: 1, pid: 1 }],
      [
        5,
        {
          type: "workspace.retrying",
          workspace: "fix-bug",
          step: "check",
          try: 2,
          failure: FIX_BUG_FAILURE,
        },
      ],
      [6, { type: "workspace.started", workspace: "lint", try: 3 }],
      [7, { type: "run.interrupting", signal: "SIGTERM" }],
      [7, { type: "workspace.archived", workspace: "lint", branchDeleted: false }],
      ...workspaceEvents("auth-docs", {
        start: 8,
        outcome: { kind: "skipped", dependency: "add-auth" },
      }),
    ]);
    const output = lines(await render(events));
    expect(output[0]).toMatch(/^conductor: run \S+ resumed: 7 workspaces/);
    expect(output).toContain("[fix-bug] ↻ retrying check (try 2) after check failed (exit 1)");
    expect(output).toContain("[lint] started (try 3)");
    expect(output).toContain("conductor: SIGTERM received, stopping every workspace");
    expect(output).toContain("[lint] archived, branch kept");
    expect(output).toContain("[auth-docs] ↷ skipped: dependency add-auth did not succeed");
  });

  it("prints a failure's whole message, so the paths it names can be copied as printed", async () => {
    const worktree = `/tmp/${"deep/".repeat(40)}fix-bug`;
    const message = `the agent left the worktree on a detached HEAD; nothing was committed: look at it in ${worktree}\nthen resume`;
    const failure = { reason: "integrity", step: "agent", message } as const;
    const events = toEvents([
      [0, { type: "run.started", plan, resumed: false, concurrency: 1, pid: 1 }],
      [1, { type: "workspace.started", workspace: "fix-bug", try: 1 }],
      [2, { type: "workspace.retrying", workspace: "fix-bug", step: "agent", try: 2, failure }],
      [
        3,
        {
          type: "step.finished",
          workspace: "fix-bug",
          step: "agent",
          status: "failed",
          durationMs: 5,
          failure,
        },
      ],
      [
        4,
        {
          type: "workspace.finished",
          workspace: "fix-bug",
          status: "failed",
          durationMs: 6,
          failure,
        },
      ],
    ]);
    const output = lines(await render(events)).filter((text) => text.startsWith("[fix-bug] "));
    const whole = `agent: the agent left the worktree on a detached HEAD; nothing was committed: look at it in ${worktree} then resume`;
    expect(output).toEqual([
      "[fix-bug] started",
      `[fix-bug] ↻ retrying agent (try 2) after ${whole}`,
      `[fix-bug] ✖ ${whole} after 5ms`,
      `[fix-bug] ✖ failed after 6ms: ${whole}`,
    ]);
  });

  it("says how long a timed-out step ran only once: its limit", async () => {
    const failure = { reason: "timeout", step: "check", message: "x", timeoutMs: 2000 } as const;
    const events = toEvents([
      [0, { type: "run.started", plan, resumed: false, concurrency: 1, pid: 1 }],
      [
        1,
        {
          type: "step.finished",
          workspace: "lint",
          step: "check",
          status: "failed",
          durationMs: 2041,
          failure,
        },
      ],
      [
        2,
        {
          type: "workspace.finished",
          workspace: "lint",
          status: "failed",
          durationMs: 2100,
          failure,
        },
      ],
    ]);
    const output = lines(await render(events)).filter((text) => text.startsWith("[lint] "));
    expect(output).toEqual([
      "[lint] ✖ check timed out after 2.0s",
      "[lint] ✖ failed after 2.1s: check timed out after 2.0s",
    ]);
  });

  it("lists the earlier results of a resumed run in its final table", async () => {
    const earlier = foldRun(plan, mixedRunEvents(plan));
    const writes: string[] = [];
    const reporter = createPlainReporter({
      write: (text) => writes.push(text),
      initialState: earlier,
    });
    const resumed = toEvents([
      [60_000, { type: "run.started", plan, resumed: true, concurrency: 1, pid: 2 }],
      [60_000, { type: "workspace.started", workspace: "fix-bug", try: 2 }],
      [60_000, { type: "step.started", workspace: "fix-bug", step: "check" }],
      [
        61_000,
        {
          type: "step.finished",
          workspace: "fix-bug",
          step: "check",
          status: "succeeded",
          durationMs: 1000,
          result: { step: "check", passed: true },
        },
      ],
      [
        61_000,
        { type: "workspace.finished", workspace: "fix-bug", status: "succeeded", durationMs: 1000 },
      ],
      [
        61_000,
        { type: "workspace.finished", workspace: "fix-bug-2", status: "skipped", durationMs: 0 },
      ],
      [
        61_000,
        {
          type: "workspace.finished",
          workspace: "refactor-model-o4-mini",
          status: "skipped",
          durationMs: 0,
        },
      ],
      [
        61_001,
        {
          type: "run.finished",
          status: "failed",
          durationMs: 1001,
          counts: { pending: 0, running: 0, succeeded: 5, failed: 0, skipped: 2, interrupted: 0 },
        },
      ],
    ]);
    for (const event of resumed) reporter.onEvent(event);
    await reporter.close();
    const output = lines(writes);
    expect(output).toContain(`conductor: run ${RUN_ID} failed in 1.0s: 5 succeeded, 2 skipped`);
    expect(output.find((line) => line.startsWith("add-auth "))).toMatch(
      /^add-auth\s+succeeded\s+commit\s+7\.0s/,
    );
    // Its duration is the time of both sessions: 7s in the first, 1s in the resumed one.
    expect(output.find((line) => line.startsWith("fix-bug "))).toMatch(
      /^fix-bug\s+succeeded\s+check\s+8\.0s\s+1\.2k\s+2 files \+10 −3\s+passed$/,
    );
    expect(output).toContain("7 workspaces: 5 succeeded, 0 failed, 2 skipped, 0 interrupted");
  });

  it("never prints the configuration's environment values", async () => {
    expect((await render(mixedRunEvents(plan))).join("")).not.toContain(SECRET);
  });

  it("formats single events without a reporter", () => {
    const [event] = toEvents([[0, { type: "step.started", workspace: "lint", step: "setup" }]]);
    expect(formatPlainEvent(event as RunEvent, undefined)).toBe("[lint] setup started\n");
  });
});
