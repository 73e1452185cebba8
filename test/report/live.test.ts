import { setImmediate as nextTurn } from "node:timers/promises";
import { createWritable, ListrLogger, ProcessOutput } from "listr2";
import { describe, expect, it, vi } from "vitest";
import type { RunEvent } from "../../src/executor/events.js";
import type { Failure, RunState } from "../../src/executor/types.js";
import { createLiveReporter } from "../../src/report/live.js";
import {
  at,
  makePlan,
  mixedRun,
  mixedRunEvents,
  RUN_ID,
  runEvents,
  T0,
  toEvents,
  usage,
  workspaceEvents,
} from "./fixtures.js";

/** One line the listr2 test renderer logged (it logs every change as JSON). */
interface Logged {
  event: "STATE" | "TITLE" | "OUTPUT" | "MESSAGE";
  data: unknown;
  task: { title: string };
}

/** What a row shows now, gathered from the renderer's log. */
interface RowView {
  title: string;
  state: string | undefined;
  output: string | undefined;
  error: string | undefined;
  skip: string | undefined;
}

/** A live reporter on listr2's test renderer, with a clock the test moves. */
function harness(options: { refreshMs?: number; initialState?: RunState } = {}) {
  const logged: Logged[] = [];
  const sink = (chunk: string) => {
    for (const line of chunk.split("\n")) if (line.trim() !== "") logged.push(JSON.parse(line));
  };
  const logger = new ListrLogger({
    processOutput: new ProcessOutput(
      createWritable(sink) as unknown as NodeJS.WriteStream,
      createWritable(sink) as unknown as NodeJS.WriteStream,
    ),
  });
  let now = T0;
  const printed: string[] = [];
  const reporter = createLiveReporter({
    renderer: "test",
    rendererOptions: { logger, task: ["title"] },
    refreshMs: options.refreshMs ?? 0,
    now: () => now,
    write: (text) => printed.push(text),
    ...(options.initialState === undefined ? {} : { initialState: options.initialState }),
  });
  /** Rows by workspace name (the first word of every title). */
  const rows = (): Map<string, RowView> => {
    const views = new Map<string, RowView>();
    for (const entry of logged) {
      const name = entry.task.title.split(" ")[0] ?? "";
      const view = views.get(name) ?? {
        title: entry.task.title,
        state: undefined,
        output: undefined,
        error: undefined,
        skip: undefined,
      };
      view.title = entry.task.title;
      if (entry.event === "STATE") view.state = entry.data as string;
      if (entry.event === "OUTPUT") view.output = entry.data as string;
      if (entry.event === "MESSAGE") {
        const message = entry.data as { error?: string; skip?: string };
        view.error = message.error ?? view.error;
        view.skip = message.skip ?? view.skip;
      }
      views.set(name, view);
    }
    return views;
  };
  /** Delivers events one by one, letting listr2 react in between, the way a run spreads them. */
  const feed = async (events: readonly RunEvent[]) => {
    for (const event of events) {
      now = Date.parse(event.time);
      reporter.onEvent(event);
      await nextTurn();
    }
  };
  return {
    reporter,
    rows,
    feed,
    logged,
    /** What the reporter printed after its rows. */
    printed,
    setNow(ms: number) {
      now = T0 + ms;
    },
  };
}

const plan = makePlan();

const checkFailure: Failure = {
  reason: "exit-non-zero",
  step: "check",
  message: "check exited with code 1",
  exitCode: 1,
  logPath: "/repo/.conductor/runs/r/workspaces/fix-bug/check.log",
};

describe("live reporter", () => {
  it("shows one row per workspace, waiting ones naming what they wait for", async () => {
    const live = harness();
    await live.feed(runEvents(plan, []).slice(0, 1));
    const rows = live.rows();
    expect([...rows.keys()]).toEqual(plan.workspaces.map((workspace) => workspace.name));
    // Names are padded to one width so the steps line up.
    expect(rows.get("lint")?.title).toBe("lint                    waiting");
    expect(rows.get("auth-docs")?.title).toBe("auth-docs               waiting for add-auth");
    await live.reporter.close();
  });

  it("follows a workspace's current step, elapsed time and last agent activity", async () => {
    const live = harness();
    const events = runEvents(plan, workspaceEvents("add-auth", { tokens: usage(12_000, 345) }));
    const upTo = (predicate: (event: RunEvent) => boolean) => events.findIndex(predicate) + 1;
    let fed = 0;
    const feedUntil = async (count: number) => {
      await live.feed(events.slice(fed, count));
      fed = count;
    };

    await feedUntil(upTo((e) => e.type === "step.started" && e.step === "setup"));
    expect(live.rows().get("add-auth")?.title).toMatch(/^add-auth\s+setup {2}3\.0s$/);
    expect(live.rows().get("add-auth")?.state).toBe("STARTED");

    await feedUntil(upTo((e) => e.type === "agent.activity" && e.activity.kind === "command"));
    expect(live.rows().get("add-auth")?.title).toMatch(/^add-auth\s+agent {2}4\.2s$/);
    expect(live.rows().get("add-auth")?.output).toBe("agent: running npm test");

    await feedUntil(upTo((e) => e.type === "agent.activity" && e.activity.kind === "usage"));
    expect(live.rows().get("add-auth")?.output).toBe("agent: editing src/app.ts · 12.3k tokens");

    await feedUntil(events.length);
    await live.reporter.close();
    expect(live.rows().get("add-auth")).toMatchObject({
      state: "COMPLETED",
      title: "add-auth                7.0s · 12.3k tokens · 2 files +10 −3",
    });
  });

  it("shows the running step's own output: the agent's activity, a script's latest line, nothing for quiet steps", async () => {
    const live = harness();
    const events = runEvents(plan, workspaceEvents("add-auth"));
    const checkStarts = events.findIndex((e) => e.type === "step.started" && e.step === "check");
    await live.feed(events.slice(0, checkStarts));
    expect(live.rows().get("add-auth")?.output).toBe("agent: editing src/app.ts · 1.2k tokens");
    // The check has started: the agent's last activity is not news any more.
    await live.feed(events.slice(checkStarts, checkStarts + 1));
    expect(live.rows().get("add-auth")?.output).toBe("");
    const time = events[checkStarts]?.time as string;
    await live.feed([
      {
        type: "step.output",
        workspace: "add-auth",
        step: "check",
        line: "\u001b[32m✓ 12 tests passed\u001b[39m",
        time,
        runId: RUN_ID,
      },
    ]);
    expect(live.rows().get("add-auth")?.output).toBe("check: ✓ 12 tests passed");
    const commitStarts = events.findIndex((e) => e.type === "step.started" && e.step === "commit");
    await live.feed(events.slice(checkStarts + 1, commitStarts + 1));
    expect(live.rows().get("add-auth")?.title).toMatch(/^add-auth\s+commit/);
    expect(live.rows().get("add-auth")?.output).toBe("");
    await live.reporter.close();
  });

  it("shows a prepared workspace waiting for a slot as waiting, not stuck in its ports step", async () => {
    const live = harness();
    const events = runEvents(plan, workspaceEvents("add-auth"));
    const setupStarts = events.findIndex((e) => e.type === "step.started" && e.step === "setup");
    await live.feed(events.slice(0, setupStarts));
    const time = events[setupStarts]?.time as string;
    await live.feed([
      { type: "workspace.waiting", workspace: "add-auth", step: "setup", time, runId: RUN_ID },
    ]);
    expect(live.rows().get("add-auth")?.title).toMatch(
      /^add-auth\s+ready, waiting for a slot {2}\d/,
    );
    // Its slot came: the row follows its steps again.
    await live.feed(events.slice(setupStarts, setupStarts + 1));
    expect(live.rows().get("add-auth")?.title).toMatch(/^add-auth\s+setup {2}/);
    await live.reporter.close();
  });

  it("shows the seed step's phase: filling the cache, waiting for it, seeding from it", async () => {
    const live = harness();
    const events = runEvents(plan, workspaceEvents("add-auth"));
    const setupStarts = events.findIndex((e) => e.type === "step.started" && e.step === "setup");
    await live.feed(events.slice(0, setupStarts));
    const time = events[setupStarts]?.time as string;
    const seed = { workspace: "add-auth", time, runId: RUN_ID };
    const key = "3f2a1b2c9d8e7f6a5b4c3d2e1f0a9b8c";
    await live.feed([{ type: "step.started", step: "seed", ...seed }]);
    expect(live.rows().get("add-auth")?.title).toMatch(/^add-auth\s+seed/);
    await live.feed([
      { type: "seed.phase", phase: "waiting", key, folders: ["node_modules"], ...seed },
    ]);
    expect(live.rows().get("add-auth")?.output).toBe(
      "seed: waiting for cache 3f2a1b2c9d…, which another workspace is filling",
    );
    await live.feed([
      { type: "seed.phase", phase: "placing", key, folders: ["node_modules", ".venv"], ...seed },
    ]);
    expect(live.rows().get("add-auth")?.output).toBe(
      "seed: seeding node_modules, .venv from cache 3f2a1b2c9d…",
    );
    await live.reporter.close();
  });

  it("ends with how the run ended and the counts, like the plain view", async () => {
    const live = harness();
    await live.feed(mixedRunEvents(plan));
    await live.reporter.close();
    expect(live.printed.join("")).toBe(
      // The fixture's run.finished carries no counts; the last line counts the state.
      `conductor: run ${RUN_ID} interrupted in 15.0s\n` +
        "7 workspaces: 4 succeeded, 2 failed, 0 skipped, 1 interrupted\n",
    );
  });

  it("shows only the followed-up workspace in a follow-up, and how the follow-up ended", async () => {
    const earlier = mixedRun();
    const live = harness({ initialState: earlier });
    await live.feed(
      toEvents([
        [60_000, { type: "follow-up.started", workspace: "fix-bug", pid: 3 }],
        [60_000, { type: "workspace.started", workspace: "fix-bug", try: 2 }],
        [
          62_000,
          {
            type: "workspace.finished",
            workspace: "fix-bug",
            status: "succeeded",
            durationMs: 2000,
          },
        ],
        [
          62_001,
          {
            type: "follow-up.finished",
            workspace: "fix-bug",
            status: "failed",
            durationMs: 2001,
            counts: { pending: 0, running: 0, succeeded: 5, failed: 1, skipped: 0, interrupted: 1 },
          },
        ],
      ]),
    );
    await live.reporter.close();
    const rows = live.rows();
    expect([...rows.keys()]).toEqual(["fix-bug"]);
    // While it ran, its title called it a follow-up, not a second try.
    expect(live.logged.some((entry) => entry.task.title.includes("starting (follow-up)"))).toBe(
      true,
    );
    // The row gives the follow-up's own time, not the workspace's total.
    expect(rows.get("fix-bug")).toMatchObject({
      state: "COMPLETED",
      title: "fix-bug  2.0s · 1.2k tokens · 2 files +10 −3",
    });
    expect(live.printed.join("")).toBe(
      `conductor: follow-up of fix-bug ended in 2.0s; run ${RUN_ID} is failed: 5 succeeded, 1 failed, 1 interrupted\n` +
        "7 workspaces: 5 succeeded, 1 failed, 0 skipped, 1 interrupted\n",
    );
  });

  it("ends failed rows with ✖ and the failure, skipped rows with the reason", async () => {
    const live = harness();
    await live.feed(
      runEvents(
        plan,
        [
          ...workspaceEvents("fix-bug", {
            outcome: { kind: "failed", step: "check", failure: checkFailure },
          }),
          ...workspaceEvents("add-auth", {
            outcome: {
              kind: "failed",
              step: "agent",
              failure: { reason: "agent-error", step: "agent", message: "401 Unauthorized" },
            },
          }),
          ...workspaceEvents("auth-docs", {
            start: 10_000,
            outcome: { kind: "skipped", dependency: "add-auth" },
          }),
          ...workspaceEvents("lint", { outcome: { kind: "interrupted", step: "setup" } }),
        ],
        { status: "failed" },
      ),
    );
    await live.reporter.close();
    const rows = live.rows();
    expect(rows.get("fix-bug")).toMatchObject({
      state: "FAILED",
      error: `fix-bug                 check failed (exit 1) after 7.0s — log: ${checkFailure.logPath}`,
    });
    expect(rows.get("add-auth")).toMatchObject({
      state: "FAILED",
      error: "add-auth                agent error: 401 Unauthorized after 5.0s",
    });
    expect(rows.get("auth-docs")).toMatchObject({
      state: "SKIPPED",
      skip: "auth-docs               skipped: dependency add-auth did not succeed",
    });
    expect(rows.get("lint")).toMatchObject({
      state: "FAILED",
      error: "lint                    interrupted during setup after 3.5s",
    });
    // A workspace that never started goes from waiting straight to skipped.
    const docsTitles = live.logged
      .filter((entry) => entry.event === "TITLE" && entry.task.title.startsWith("auth-docs"))
      .map((entry) => entry.data);
    expect(docsTitles).toEqual([
      "auth-docs               skipped: dependency add-auth did not succeed",
    ]);
  });

  it("says how long a timed-out step ran only once: its limit", async () => {
    const live = harness();
    const failure: Failure = {
      reason: "timeout",
      step: "agent",
      message: "agent timed out",
      timeoutMs: 2000,
    };
    await live.feed(
      runEvents(
        plan,
        [...workspaceEvents("lint", { outcome: { kind: "failed", step: "agent", failure } })],
        {
          status: "failed",
        },
      ),
    );
    await live.reporter.close();
    expect(live.rows().get("lint")).toMatchObject({
      state: "FAILED",
      error: "lint                    agent timed out after 2.0s",
    });
  });

  it("resolves every row on close when the events stop mid-run, and never hangs", async () => {
    const live = harness();
    const events = toEvents([
      [0, { type: "run.started", plan, resumed: false, concurrency: 2, pid: 1 }],
      [0, { type: "workspace.started", workspace: "add-auth", try: 1 }],
      [0, { type: "step.started", workspace: "add-auth", step: "agent" }],
      [10, { type: "run.interrupting", signal: "SIGINT" }],
    ]);
    await live.feed(events);
    live.setNow(2500);
    const closed = live.reporter.close().then(() => "closed");
    const timeout = new Promise((resolve) => setTimeout(resolve, 5000, "hung"));
    expect(await Promise.race([closed, timeout])).toBe("closed");
    const rows = live.rows();
    expect(rows.get("add-auth")).toMatchObject({
      state: "FAILED",
      error: "add-auth                stopped during agent after 2.5s",
    });
    expect(rows.get("lint")).toMatchObject({
      state: "SKIPPED",
      skip: "lint                    not started",
    });
    // Every row reached a final state.
    expect(
      [...rows.values()].every((row) =>
        ["COMPLETED", "FAILED", "SKIPPED"].includes(row.state ?? ""),
      ),
    ).toBe(true);
  });

  it("updates a waiting row when what it waits for succeeds", async () => {
    const live = harness();
    const events = runEvents(plan, workspaceEvents("add-auth"));
    await live.feed(events.slice(0, -1));
    expect(live.rows().get("auth-docs")?.title).toBe("auth-docs               waiting");
    await live.reporter.close();
  });

  it("shows what succeeded in the earlier run as done when a run is resumed", async () => {
    const earlier = mixedRun();
    const live = harness({ initialState: earlier });
    await live.feed(
      toEvents([
        [60_000, { type: "run.started", plan, resumed: true, concurrency: 2, pid: 2 }],
        [60_000, { type: "workspace.started", workspace: "fix-bug", try: 2 }],
      ]),
    );
    const rows = live.rows();
    expect(rows.get("add-auth")).toMatchObject({
      state: "COMPLETED",
      title: "add-auth                7.0s · 12.3k tokens · 2 files +10 −3",
    });
    expect(rows.get("fix-bug")).toMatchObject({
      state: "STARTED",
      title: "fix-bug                 starting (try 2)  0ms",
    });
    expect(rows.get("fix-bug-2")?.title).toBe("fix-bug-2               waiting");
    await live.reporter.close();
  });

  it("closes at once when the run never started", async () => {
    const live = harness();
    await live.reporter.close();
    expect(live.logged).toEqual([]);
  });

  it("refreshes the elapsed time of running rows while nothing else happens", async () => {
    const live = harness({ refreshMs: 5 });
    await live.feed(
      toEvents([
        [0, { type: "run.started", plan, resumed: false, concurrency: 2, pid: 1 }],
        [0, { type: "workspace.started", workspace: "lint", try: 1 }],
        [0, { type: "step.started", workspace: "lint", step: "setup" }],
      ]),
    );
    expect(live.rows().get("lint")?.title).toMatch(/setup {2}0ms$/);
    live.setNow(65_000);
    await vi.waitFor(() => expect(live.rows().get("lint")?.title).toMatch(/setup {2}1m05s$/));
    await live.reporter.close();
  });

  it("never throws into the executor, even for events it cannot place", async () => {
    const live = harness();
    await live.feed(runEvents(plan, []).slice(0, 1));
    expect(() =>
      live.reporter.onEvent({
        time: at(1),
        runId: RUN_ID,
        type: "workspace.started",
        workspace: "not-in-plan",
        try: 1,
      }),
    ).not.toThrow();
    expect(() =>
      live.reporter.onEvent({
        time: at(1),
        runId: "other-run",
        type: "run.interrupting",
        signal: "SIGINT",
      }),
    ).not.toThrow();
    await live.reporter.close();
  });

  it("leaves SIGINT to the executor", async () => {
    const before = process.listenerCount("SIGINT");
    const live = harness();
    await live.feed(runEvents(plan, []).slice(0, 1));
    expect(process.listenerCount("SIGINT")).toBe(before);
    await live.reporter.close();
  });
});
