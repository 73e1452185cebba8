// The concurrency limit covers a workspace's heavy work (seed, setup, agent, check); its worktree,
// copy and ports steps run ahead of its slot and its commit after it, so conductor's own git work
// overlaps with other workspaces' agents.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/executor/events.js";
import { conductor, startConductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig, runIds, tasks, waitFor } from "../helpers/run-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

function eventsOf(root: string): RunEvent[] {
  const ids = existsSync(path.join(root, ".conductor", "runs")) ? runIds(root) : [];
  const id = ids[ids.length - 1];
  if (id === undefined) return [];
  const file = path.join(root, ".conductor", "runs", id, "events.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.endsWith("}"))
    .map((line) => JSON.parse(line) as RunEvent);
}

/** Index of the first event matching, or -1. */
function indexOf(events: RunEvent[], match: (event: RunEvent) => boolean): number {
  return events.findIndex(match);
}

const stepEvent =
  (type: "step.started" | "step.finished", workspace: string, step: string) => (event: RunEvent) =>
    event.type === type && event.workspace === workspace && event.step === step;

/** Replays the events: how many workspaces were ahead of their slot at once, at most. */
function mostAhead(events: RunEvent[]): number {
  const ahead = new Set<string>();
  let most = 0;
  for (const event of events) {
    if (event.type === "workspace.started") ahead.add(event.workspace);
    if (event.type === "step.started" && ["seed", "setup", "agent", "check"].includes(event.step))
      ahead.delete(event.workspace);
    if (event.type === "workspace.finished") ahead.delete(event.workspace);
    most = Math.max(most, ahead.size);
  }
  return most;
}

/**
 * Wraps an agent command so that it marks its start and end in $HOME/agents.log: what the slots
 * bound is the agent processes themselves, counted here from the processes, not from the events.
 */
const counted = (command: string) =>
  `echo + >> "$HOME/agents.log"; ${command}; echo - >> "$HOME/agents.log"`;

/** Most agent processes that ran at once, from $HOME/agents.log. */
function mostAgentsAtOnce(home: string): number {
  let running = 0;
  let most = 0;
  for (const mark of readFileSync(path.join(home, "agents.log"), "utf8").split("\n")) {
    running += mark === "+" ? 1 : mark === "-" ? -1 : 0;
    most = Math.max(most, running);
  }
  return most;
}

describe("pipelined scheduling", () => {
  it("at concurrency 1, the next agent starts while the previous workspace commits, and the next worktree is made during the agent", async () => {
    repo = await repoWithConfig({
      concurrency: 1,
      agent: {
        kind: "command",
        command: counted('sleep 1; echo "$CONDUCTOR_TASK_ID" > done.txt'),
      },
      tasks: tasks("one", "two", "three"),
    });
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(0);
    const events = eventsOf(repo.root);
    for (const [first, second] of [
      ["one", "two"],
      ["two", "three"],
    ] as const) {
      // Prepared ahead: the next worktree exists before the running agent ends.
      expect(indexOf(events, stepEvent("step.finished", second, "worktree"))).toBeLessThan(
        indexOf(events, stepEvent("step.finished", first, "agent")),
      );
      // Committed outside the slot: the next agent starts before the commit ends.
      expect(indexOf(events, stepEvent("step.started", second, "agent"))).toBeLessThan(
        indexOf(events, stepEvent("step.finished", first, "commit")),
      );
    }
    // A prepared workspace reads as waiting for its slot, not stuck in its ports step.
    expect(result.stdout).toContain("[two] ready, waiting for a slot");
    expect(mostAhead(events)).toBe(1);
    expect(mostAgentsAtOnce(repo.home)).toBe(1);
    for (const id of ["one", "two", "three"]) {
      expect(await repo.git("show", `conductor/${id}:done.txt`)).toBe(id);
    }
  });

  it("never prepares more workspaces than the concurrency ahead of the slots", async () => {
    repo = await repoWithConfig({
      concurrency: 2,
      agent: { kind: "command", command: counted("sleep 0.6; echo x > done.txt") },
      tasks: tasks("a", "b", "c", "d", "e", "f", "g"),
    });
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(0);
    expect(mostAhead(eventsOf(repo.root))).toBe(2);
    expect(mostAgentsAtOnce(repo.home)).toBe(2);
    expect(latestSummary(repo.root).workspaces.every((w) => w.status === "succeeded")).toBe(true);
  });

  it("Ctrl-C while a prepared workspace waits for its slot leaves it pending; --resume finishes every workspace", async () => {
    repo = await repoWithConfig({
      concurrency: 1,
      agent: {
        kind: "command",
        command:
          'while [ ! -f "$CONDUCTOR_ROOT_PATH/.conductor/go" ]; do sleep 0.1; done; echo "$CONDUCTOR_TASK_ID" > done.txt',
      },
      tasks: tasks("one", "two", "three"),
    });
    const child = startConductor(["run", "--output", "plain"], { cwd: repo.root, home: repo.home });
    const root = repo.root;
    await waitFor(
      () => eventsOf(root).some((e) => e.type === "workspace.waiting" && e.workspace === "two"),
      20_000,
      "two waiting for a slot",
    );
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);
    const interrupted = latestSummary(repo.root);
    expect(Object.fromEntries(interrupted.workspaces.map((w) => [w.name, w.status]))).toEqual({
      one: "interrupted",
      two: "pending",
      three: "pending",
    });
    // The counts add up to the total: the pending ones are named too.
    expect(result.stdout).toContain(
      "3 workspaces: 0 succeeded, 0 failed, 0 skipped, 1 interrupted, 2 pending",
    );
    // Its agent never started; its worktree is there for the resume to reuse.
    expect(eventsOf(repo.root).some(stepEvent("step.started", "two", "agent"))).toBe(false);
    expect(existsSync(path.join(repo.home, "workspaces", "two"))).toBe(true);

    await repo.write({ ".conductor/go": "" });
    const resumed = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(runIds(repo.root)).toHaveLength(1);
    expect(latestSummary(repo.root).workspaces.every((w) => w.status === "succeeded")).toBe(true);
    for (const id of ["one", "two", "three"]) {
      expect(await repo.git("show", `conductor/${id}:done.txt`)).toBe(id);
    }
  });

  /**
   * Runs three tasks at concurrency 1 with fail_fast, `one` failing by `failure` (its agent logs
   * every agent that starts); checks that no other agent started and the others were skipped.
   */
  async function failFast(failure: string) {
    repo = await repoWithConfig({
      concurrency: 1,
      fail_fast: true,
      agent: {
        kind: "command",
        command: `echo "$CONDUCTOR_TASK_ID" >> "$CONDUCTOR_ROOT_PATH/../agents.txt"; if [ "$CONDUCTOR_TASK_ID" = one ]; then ${failure}; fi`,
      },
      tasks: tasks("one", "two", "three"),
    });
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(1);
    expect(readFileSync(path.join(repo.root, "..", "agents.txt"), "utf8")).toBe("one\n");
    const summary = latestSummary(repo.root);
    const workspace = (name: string) => summary.workspaces.find((w) => w.name === name);
    expect([workspace("two")?.status, workspace("three")?.status]).toEqual(["skipped", "skipped"]);
    return { events: eventsOf(repo.root), workspace };
  }

  it("fail_fast does not start the agent of a prepared workspace", async () => {
    const { events, workspace } = await failFast("sleep 1; exit 1");
    // two was prepared while one's agent ran, then never went further.
    expect(indexOf(events, stepEvent("step.finished", "two", "ports"))).toBeGreaterThan(-1);
    expect(events.some(stepEvent("step.started", "two", "agent"))).toBe(false);
    expect(workspace("two")?.failure?.message).toContain("fail-fast");
  });

  it("fail_fast starts no other agent when an agent that exited 0 fails its verification", async () => {
    // one moves a branch that is not its own.
    const { workspace } = await failFast("git branch -f stray HEAD");
    expect(workspace("one")?.failure?.reason).toBe("integrity");
  });

  it("the next agent starts only after the previous one's verification: it is not blamed for what that agent did, and the repair stands", async () => {
    repo = await repoWithConfig({
      concurrency: 1,
      agent: {
        kind: "command",
        // one moves a branch that is not its own and exits 0; the others do honest work.
        command:
          'echo "$CONDUCTOR_TASK_ID" > done.txt; if [ "$CONDUCTOR_TASK_ID" = one ]; then git add done.txt && git commit -qm mine && git branch -f other HEAD; fi',
      },
      tasks: tasks("one", "two", "three"),
    });
    await repo.git("branch", "other");
    const otherBefore = (await repo.git("rev-parse", "other")).trim();
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(1);
    const summary = latestSummary(repo.root);
    const status = (name: string) => summary.workspaces.find((w) => w.name === name);
    expect(status("one")?.failure?.reason).toBe("integrity");
    expect([status("two")?.status, status("three")?.status], result.all).toEqual([
      "succeeded",
      "succeeded",
    ]);
    expect((await repo.git("rev-parse", "other")).trim()).toBe(otherBefore);
  });

  it("the next agent takes the look of the previous one's clean verification as its baseline instead of reading every ref again", async () => {
    repo = await repoWithConfig({
      concurrency: 1,
      agent: { kind: "command", command: 'echo "$CONDUCTOR_TASK_ID" > done.txt' },
      tasks: tasks("one", "two", "three"),
    });
    const trace = path.join(repo.home, "git-trace.log");
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
      env: { GIT_TRACE: trace },
    });
    expect(result.exitCode, result.all).toBe(0);
    // The look lists every ref with its value and symref; the start-up's branch listing does not.
    const looks = readFileSync(trace, "utf8")
      .split("\n")
      .filter((line) => line.includes("built-in: git for-each-ref") && line.includes("%(symref)"));
    // One baseline of its own for the first agent and one check per agent; each later agent
    // starts within a moment of the check before it, so at least one of them took that look.
    expect(looks.length).toBeGreaterThanOrEqual(4);
    expect(looks.length).toBeLessThanOrEqual(5);
  });

  it("a prepared workspace is refused its turn once the budget is spent", async () => {
    repo = await repoWithConfig({
      concurrency: 1,
      budget: { tokens: 1000, grace: "1s" },
      agent: {
        kind: "command",
        command:
          'sleep 1; echo x > done.txt; echo \'conductor-usage: {"input_tokens": 800, "output_tokens": 200}\'',
      },
      tasks: tasks("one", "two"),
    });
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(1);
    const events = eventsOf(repo.root);
    // two waited, prepared, while one spent the budget; then it never started its agent.
    expect(
      indexOf(events, (e) => e.type === "workspace.waiting" && e.workspace === "two"),
    ).toBeLessThan(indexOf(events, stepEvent("step.finished", "one", "agent")));
    expect(events.some(stepEvent("step.started", "two", "agent"))).toBe(false);
    const two = latestSummary(repo.root).workspaces.find((w) => w.name === "two");
    expect(two?.status).toBe("skipped");
    expect(two?.failure?.reason).toBe("budget");
  });

  it("review: auto takes a slot again after the commit: reviews and agents never overlap at concurrency 1", async () => {
    repo = await repoWithConfig({
      concurrency: 1,
      review: "auto",
      agent: {
        kind: "command",
        command:
          'echo "agent-start $CONDUCTOR_TASK_ID" >> "$CONDUCTOR_ROOT_PATH/../slots.txt"; sleep 0.4; echo x > "$CONDUCTOR_TASK_ID.txt"; echo "agent-end $CONDUCTOR_TASK_ID" >> "$CONDUCTOR_ROOT_PATH/../slots.txt"',
        review_command:
          'echo "review-start $CONDUCTOR_TASK_ID" >> "$CONDUCTOR_ROOT_PATH/../slots.txt"; sleep 0.4; echo "review-end $CONDUCTOR_TASK_ID" >> "$CONDUCTOR_ROOT_PATH/../slots.txt"; echo \'{"findings": [], "overall_correctness": "patch is correct", "overall_explanation": "fine", "overall_confidence_score": 0.9}\'',
      },
      tasks: tasks("one", "two", "three"),
    });
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(0);
    const slots = readFileSync(path.join(repo.root, "..", "slots.txt"), "utf8")
      .trim()
      .split("\n");
    // Each start is followed by its own end: one slot, never two holders.
    expect(slots).toHaveLength(12);
    for (let i = 0; i < slots.length; i += 2) {
      const [what, task] = (slots[i] as string).split(" ");
      expect(slots[i + 1]).toBe(`${what?.replace("start", "end")} ${task}`);
    }
    // Every workspace was reviewed, after its commit.
    for (const id of ["one", "two", "three"]) {
      expect(result.stdout).toContain(`[${id}] review started (command)`);
    }
    const events = eventsOf(repo.root);
    for (const id of ["one", "two", "three"]) {
      expect(
        indexOf(events, (e) => e.type === "review.started" && e.workspace === id),
      ).toBeGreaterThan(indexOf(events, stepEvent("step.finished", id, "commit")));
    }
  });

  it("a dependent starts from its dependency's commit, made after the dependency left its slot", async () => {
    repo = await repoWithConfig({
      concurrency: 2,
      agent: {
        kind: "command",
        command:
          'sleep 0.3; if [ -f first.txt ]; then cat first.txt > second.txt; else echo "$CONDUCTOR_TASK_ID" > first.txt; fi',
      },
      tasks: [
        { id: "first", prompt: "1" },
        { id: "second", prompt: "2", depends_on: ["first"] },
        { id: "other", prompt: "3" },
      ],
    });
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(0);
    const events = eventsOf(repo.root);
    expect(indexOf(events, stepEvent("step.started", "second", "worktree"))).toBeGreaterThan(
      indexOf(events, (e) => e.type === "workspace.finished" && e.workspace === "first"),
    );
    const firstCommit = await repo.git("rev-parse", "conductor/first");
    expect(await repo.git("rev-parse", "conductor/second^")).toBe(firstCommit);
    expect(await repo.git("show", "conductor/second:second.txt")).toBe("first");
  });
});
