// Budgets with the command agent, which reports its tokens through `conductor-usage:` lines:
// reached mid-run, exceeded by one long turn, a task's own budget, and resume after a stop.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { RunState } from "../../src/executor/types.js";
import { conductor, startConductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig, runIds, waitFor } from "../helpers/run-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** A command agent that writes a file, reports `tokens` (input 80%, output 20%), and finishes. */
function reporting(tokens: number): string {
  const input = Math.round(tokens * 0.8);
  return (
    `echo "work of $CONDUCTOR_TASK_ID" > "work-$CONDUCTOR_TASK_ID.txt"; ` +
    `echo 'conductor-usage: {"input_tokens": ${input}, "output_tokens": ${tokens - input}}'; ` +
    "echo done"
  );
}

const FOUR = ["a", "b", "c", "d"].map((id) => ({ id, prompt: `task ${id}` }));

/** `text` as a regular expression that matches it literally. */
function literally(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await execa("git", args, { cwd })).stdout;
}

describe("run budget", () => {
  it("starts no new agent turn once the run's token budget is reached, fails with reason budget, and loses nothing", async () => {
    // Four tasks of 1000 tokens each, one at a time: the budget of 2000 is half of what they need.
    repo = await repoWithConfig({
      concurrency: 1,
      budget: { tokens: 2000, grace: "1s" },
      agent: { kind: "command", command: reporting(1000) },
      tasks: FOUR,
    });
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toContain("the run's budget is reached (2k of 2k tokens)");
    expect(result.all).toContain("reason: budget");
    const summary = latestSummary(repo.root);
    expect(summary.reason).toBe("budget");
    expect(summary.budget?.reached).toEqual({ limit: "tokens", allowed: 2000, spent: 2000 });
    expect(summary.totals.tokens.totalTokens).toBe(2000);
    const byName = Object.fromEntries(summary.workspaces.map((w) => [w.name, w]));
    expect(byName.a?.status).toBe("succeeded");
    expect(byName.b?.status).toBe("succeeded");
    for (const name of ["c", "d"]) {
      expect(byName[name]?.status).toBe("skipped");
      expect(byName[name]?.failure?.reason).toBe("budget");
      expect(byName[name]?.tokens).toBeNull();
    }
    // The finished work is committed on its branch.
    expect(await git(repo.root, "show", "conductor/b:work-b.txt")).toBe("work of b");
    // Every report says why.
    const dir = path.join(repo.root, ".conductor", "runs", summary.runId);
    expect(readFileSync(path.join(dir, "junit.xml"), "utf8")).toContain(
      '<property name="reason" value="budget"/>',
    );
    const markdown = readFileSync(path.join(dir, "report.md"), "utf8");
    expect(markdown).toContain("reason: budget");
    expect(markdown).toContain("2k of 2k tokens");
    const status = await conductor(["status"], { cwd: repo.root, home: repo.home });
    expect(status.stdout).toContain("budget: 2k of 2k tokens — reached: 2k of 2k tokens");
    // A resume as it is would start nothing: the next step says what to raise first.
    const next = `raise budget.tokens in conductor.yaml, then \`conductor run --resume ${summary.runId}\``;
    for (const name of ["c", "d"]) {
      expect(result.stdout).toMatch(
        new RegExp(
          `\\n {2}${name} +skipped: +the run's budget is spent: ${literally(next)}(\\n|$)`,
        ),
      );
    }
  });

  it("stops one long turn that goes over the budget after the grace period, keeping its work", async () => {
    // The agent reports 5000 tokens at once, then would go on for a minute.
    const command =
      "echo half-done > progress.txt; " +
      `echo 'conductor-usage: {"input_tokens": 4000, "output_tokens": 1000}'; ` +
      "sleep 60; echo finished > progress.txt";
    repo = await repoWithConfig({
      budget: { tokens: "1k", grace: "1s" },
      agent: { kind: "command", command },
      tasks: [{ id: "long", prompt: "go on and on" }],
    });
    const started = Date.now();
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    const summary = latestSummary(repo.root);
    expect(summary.reason).toBe("budget");
    const [long] = summary.workspaces;
    expect(long?.status).toBe("failed");
    expect(long?.failure?.reason).toBe("budget");
    expect(long?.failure?.message).toContain("stopped after the grace period");
    expect(long?.tokens?.totalTokens).toBe(5000);
    // The half-done work stays in the worktree, as after Ctrl-C.
    expect(readFileSync(path.join(long?.path as string, "progress.txt"), "utf8")).toBe(
      "half-done\n",
    );
  });
});

describe("task budget", () => {
  it("fails only the workspaces of the task whose own budget is spent", async () => {
    repo = await repoWithConfig({
      concurrency: 1,
      agent: { kind: "command", command: reporting(1000) },
      tasks: [
        // Compared by hand (select: manual), so a skipped attempt fails the run.
        {
          id: "capped",
          prompt: "capped",
          attempts: 3,
          select: "manual",
          budget: { tokens: 1500 },
        },
        { id: "free", prompt: "free" },
      ],
    });
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toContain("task capped's budget is reached");
    const summary = latestSummary(repo.root);
    // Only the run's own budget makes the run's reason budget.
    expect(summary.reason).toBeNull();
    expect(summary.budget?.tasksReached.capped).toEqual({
      limit: "tokens",
      allowed: 1500,
      spent: 2000,
    });
    const status = Object.fromEntries(summary.workspaces.map((w) => [w.name, w.status]));
    expect(status).toEqual({
      capped: "succeeded",
      "capped-2": "succeeded",
      "capped-3": "skipped",
      free: "succeeded",
    });
    expect(summary.workspaces.find((w) => w.name === "capped-3")?.failure?.message).toContain(
      "task capped's token budget is spent",
    );
    expect(result.stdout).toContain(
      `task capped's budget is spent: raise its budget.tokens in conductor.yaml, then \`conductor run --resume ${summary.runId}\``,
    );
  });
});

describe("best-of-N under a budget", () => {
  it("asks no judge once the task's or the run's budget is spent: the next criterion decides", async () => {
    for (const budget of [{ run: { tokens: 1500 } }, { task: { tokens: 1500 } }]) {
      const marker = path.join(mkdtempSync(path.join(tmpdir(), "judge-")), "judge-ran");
      const judge = `touch '${marker}'; echo '{"winner": "fix-2", "ranking": ["fix-2", "fix"], "reasons": "r"}'`;
      repo = await repoWithConfig({
        ...(budget.run === undefined ? {} : { budget: budget.run }),
        agent: { kind: "command", command: reporting(1000), judge_command: judge },
        tasks: [
          {
            id: "fix",
            prompt: "fix it",
            attempts: 2,
            ...(budget.task === undefined ? {} : { budget: budget.task }),
          },
        ],
      });
      const result = await conductor(["run", "--output", "plain"], {
        cwd: repo.root,
        home: repo.home,
      });
      // Both candidates did their turns (2000 tokens), and they tie: only a judge could break it.
      expect(result.all).toContain(
        "[fix] winner: fix (branch conductor/fix) — succeeded (no check), 1 line changed, judge unavailable: not asked:",
      );
      expect(result.all).toContain("token budget is spent (2k of 1.5k tokens)");
      expect(existsSync(marker), "the judge command ran").toBe(false);
      await repo.remove();
      repo = undefined;
      rmSync(path.dirname(marker), { recursive: true, force: true });
    }
  });
});

describe("a judge's spending", () => {
  it("counts against the run's budget: its tokens can stop the tasks that build on the winner", async () => {
    // Candidates spend 2000 together, under the budget of 2500; the judge's 1000 take it over.
    const judge = `${reporting(1000)}; echo '{"winner": "fix-2", "ranking": ["fix-2", "fix"], "reasons": "r"}'`;
    repo = await repoWithConfig({
      budget: { tokens: 2500 },
      agent: { kind: "command", command: reporting(1000), judge_command: judge },
      tasks: [
        { id: "fix", prompt: "fix it", attempts: 2 },
        { id: "docs", prompt: "document it", depends_on: ["fix"] },
      ],
    });
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    // The judge's work is announced as it starts: it may take minutes.
    expect(result.all).toContain("[fix] judge comparing fix, fix-2 (a tie)");
    expect(result.all).toContain(
      '[fix] winner: fix-2 (branch conductor/fix) — succeeded (no check), 1 line changed, judge: "r"',
    );
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toContain(
      "[docs] ↷ skipped: not started: the run's token budget is spent (3k of 2.5k tokens)",
    );
    const summary = latestSummary(repo.root);
    expect(summary.reason).toBe("budget");
    expect(summary.budget?.spent.tokens).toBe(3000);
    // The run's totals count the judge's tokens as its budget does.
    expect(summary.totals.tokens.totalTokens).toBe(3000);
  });
});

describe("a judge at work when a budget is reached", () => {
  /** The judge's answer, if it were let to finish. */
  const ANSWER = `echo '{"winner": "fix-2", "ranking": ["fix-2", "fix"], "reasons": "r"}'`;

  it("is stopped after the grace period by its tokens, the run's budget or its task's, and the next criterion decides", async () => {
    // Candidates spend 2000 together; the judge's 1000 take the budget of 2500 over.
    const judge = `echo 'conductor-usage: {"input_tokens": 800, "output_tokens": 200}'; sleep 30; ${ANSWER}`;
    for (const scope of ["run", "task"] as const) {
      const budget = { tokens: 2500, grace: "1s" };
      repo = await repoWithConfig({
        budget: scope === "run" ? budget : { grace: "1s" },
        agent: { kind: "command", command: reporting(1000), judge_command: judge },
        tasks: [
          {
            id: "fix",
            prompt: "fix it",
            attempts: 2,
            ...(scope === "task" ? { budget: { tokens: 2500 } } : {}),
          },
        ],
      });
      const started = Date.now();
      const result = await conductor(["run", "--output", "plain"], {
        cwd: repo.root,
        home: repo.home,
      });
      expect(Date.now() - started, result.all).toBeLessThan(20_000);
      const whose = scope === "run" ? "the run's" : "task fix's";
      expect(result.all).toContain(
        `[fix] winner: fix (branch conductor/fix) — succeeded (no check), 1 line changed, judge failed: stopped after the grace period: ${whose} token budget is spent (3k of 2.5k tokens)`,
      );
      const [runId] = runIds(repo.root);
      const state = JSON.parse(
        readFileSync(
          path.join(repo.root, ".conductor", "runs", runId as string, "run.json"),
          "utf8",
        ),
      ) as RunState;
      expect(state.selections?.fix?.ranking.decidedBy).not.toBe("judge");
      expect(state.selections?.fix?.judge).toMatchObject({ status: "failed" });
      const summary = latestSummary(repo.root);
      expect(summary.budget?.spent.tokens).toBe(3000);
      const reached = { limit: "tokens", allowed: 2500, spent: 3000 };
      if (scope === "run") expect(summary.budget?.reached).toEqual(reached);
      else expect(summary.budget?.tasksReached.fix).toEqual(reached);
      await repo.remove();
      repo = undefined;
    }
  });

  it("is stopped by its agent time, counted while it works, though it reports no tokens", async () => {
    repo = await repoWithConfig({
      budget: { agent_time: "2s", grace: "1s" },
      agent: { kind: "command", command: reporting(1000), judge_command: `sleep 30; ${ANSWER}` },
      tasks: [{ id: "fix", prompt: "fix it", attempts: 2 }],
    });
    const started = Date.now();
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(Date.now() - started, result.all).toBeLessThan(20_000);
    // The task has its winner all the same: a stopped judge alone does not fail the run.
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain("the run's budget is reached (");
    expect(result.all).toContain(
      "judge failed: stopped after the grace period: the run's agent time budget is spent (",
    );
    // Two seconds of agent time, nearly all the judge's, and its grace.
    expect(latestSummary(repo.root).budget?.spent.agentTimeMs).toBeGreaterThanOrEqual(3000);
  });
});

describe("a judge cut short by Ctrl-C", () => {
  it("still counts what it spent: status shows it, and a resume under a lower budget asks no judge", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "judge-"));
    const asked = path.join(dir, "asked");
    const go = path.join(dir, "go");
    // Reports 1500 tokens, then would judge for five minutes unless told to go on.
    const judge =
      `echo 'conductor-usage: {"input_tokens": 1200, "output_tokens": 300}'; touch '${asked}'; ` +
      `[ -f '${go}' ] || sleep 300; ` +
      `echo '{"winner": "fix-2", "ranking": ["fix-2", "fix"], "reasons": "r"}'`;
    const config = (tokens: number) => ({
      budget: { tokens },
      agent: { kind: "command", command: reporting(1000), judge_command: judge },
      tasks: [{ id: "fix", prompt: "fix it", attempts: 2 }],
    });
    repo = await repoWithConfig(config(5000));
    const child = startConductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    await waitFor(() => existsSync(asked), 20_000, "the judge to report its tokens");
    child.kill("SIGINT");
    expect((await child).exitCode).toBe(130);
    const [runId] = runIds(repo.root);
    const status = await conductor(["status"], { cwd: repo.root, home: repo.home });
    // The candidates' 2000 and the judge's 1500.
    expect(status.stdout).toContain("budget: 3.5k of 5k tokens");
    const state = JSON.parse(
      readFileSync(path.join(repo.root, ".conductor", "runs", runId as string, "run.json"), "utf8"),
    ) as RunState;
    expect(state.selections?.fix).toBeUndefined();
    expect(state.judges?.fix).toEqual([
      {
        asked: ["fix", "fix-2"],
        startedAt: expect.any(String),
        agentTimeMs: expect.any(Number),
        usage: expect.objectContaining({ inputTokens: 1200, outputTokens: 300 }),
      },
    ]);

    // What the cut-short judge spent counts on resume: under 3000 tokens, no judge is asked again.
    await repo.write({
      "conductor.yaml": stringify({
        version: 1,
        ...config(3000),
        workspaces: { dir: path.join(repo.home, "workspaces") },
      }),
    });
    writeFileSync(go, "");
    const resumed = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(resumed.all).toContain(
      "[fix] winner: fix (branch conductor/fix) — succeeded (no check), 1 line changed, judge unavailable: not asked: the run's token budget is spent (3.5k of 3k tokens)",
    );
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("resume after a budget stop", () => {
  it("does not spend past the budget again until it is raised, then finishes the rest", async () => {
    const config = (tokens: number) => ({
      concurrency: 1,
      budget: { tokens, grace: "1s" },
      agent: { kind: "command", command: reporting(1000) },
      tasks: FOUR,
    });
    repo = await repoWithConfig(config(2000));
    const first = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(first.exitCode, first.all).toBe(1);
    const [runId] = runIds(repo.root);

    // The same budget: the tokens spent in the first session count, so nothing starts.
    const again = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(again.exitCode, again.all).toBe(1);
    expect(again.all).toContain("the run's budget is reached (2k of 2k tokens)");
    const events = readFileSync(
      path.join(repo.root, ".conductor", "runs", runId as string, "events.jsonl"),
      "utf8",
    );
    const agentStarts = events
      .split("\n")
      .filter((line) => line.includes('"step":"agent"') && line.includes('"step.started"'));
    expect(agentStarts).toHaveLength(2);
    expect(latestSummary(repo.root).totals.tokens.totalTokens).toBe(2000);

    // Raised (budgets are not part of the plan's hash): the resume finishes c and d.
    const full = {
      version: 1,
      ...config(5000),
      workspaces: { dir: path.join(repo.home, "workspaces") },
    };
    await repo.write({ "conductor.yaml": stringify(full) });
    const raised = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(raised.exitCode, raised.all).toBe(0);
    const summary = latestSummary(repo.root);
    expect(summary.status).toBe("succeeded");
    expect(summary.reason).toBeNull();
    expect(summary.totals.tokens.totalTokens).toBe(4000);
    expect(summary.budget?.spent.tokens).toBe(4000);
    expect(await git(repo.root, "show", "conductor/d:work-d.txt")).toBe("work of d");
  });
});

describe("plan --estimate", () => {
  it("says when there is no history, then expects what earlier runs of the same task and prompt spent", async () => {
    const config = (prompt: string) => ({
      budget: { tokens: 1500 },
      agent: { kind: "command", command: reporting(1000) },
      tasks: [
        { id: "a", prompt: "task a" },
        { id: "b", prompt },
      ],
    });
    repo = await repoWithConfig(config("task b"));
    const before = await conductor(["plan", "--estimate"], { cwd: repo.root, home: repo.home });
    expect(before.exitCode, before.all).toBe(0);
    expect(before.stdout).toContain("estimate: no history");

    for (const _ of [1, 2]) {
      const run = await conductor(["run", "--output", "plain"], {
        cwd: repo.root,
        home: repo.home,
      });
      expect(run.exitCode, run.all).toBe(0);
    }
    const after = await conductor(["plan", "--estimate"], { cwd: repo.root, home: repo.home });
    expect(after.exitCode, after.all).toBe(0);
    expect(after.stdout).toMatch(/a\s+2 earlier\s+1k/);
    expect(after.stdout).toMatch(/b\s+2 earlier\s+1k/);
    expect(after.stdout).toContain("expected: 2k tokens");
    expect(after.stdout).toContain("budget: 1.5k tokens (estimate over it)");

    // Another prompt is other work: no history for it.
    await repo.write({
      "conductor.yaml": stringify({
        version: 1,
        ...config("task b, differently"),
        workspaces: { dir: path.join(repo.home, "workspaces") },
      }),
    });
    const changed = await conductor(["plan", "--estimate", "--json"], {
      cwd: repo.root,
      home: repo.home,
    });
    const { estimate } = JSON.parse(changed.stdout) as {
      estimate: {
        withHistory: number;
        tokens: number;
        workspaces: { name: string; samples: number }[];
      };
    };
    expect(estimate.withHistory).toBe(1);
    expect(estimate.tokens).toBe(1000);
    expect(estimate.workspaces.find((w) => w.name === "b")?.samples).toBe(0);
  });

  it("counts the judge a best-of-N task may ask among the agent sessions, and says so", async () => {
    const judge =
      `echo 'conductor-usage: {"input_tokens": 400, "output_tokens": 100}'; ` +
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
      'first="${CONDUCTOR_JUDGE_CANDIDATES%% *}"; printf \'{"winner":"%s","ranking":["%s"],"reasons":"same"}\\n\' "$first" "$first"';
    repo = await repoWithConfig({
      agent: { kind: "command", command: reporting(1000), judge_command: judge },
      tasks: [{ id: "pick", prompt: "task pick", attempts: 2 }],
    });
    const options = { cwd: repo.root, home: repo.home };
    const sessions =
      "agent sessions: 3 sessions, 2 workspaces and 1 best-of-N judge (at most one per task with select: best, asked when its passing candidates tie); the estimate includes the judges";
    const before = await conductor(["plan", "--estimate"], options);
    expect(before.exitCode, before.all).toBe(0);
    expect(before.stdout).toContain("estimate: no history");
    expect(before.stdout).toContain(sessions);

    // Both candidates pass: the judge breaks the tie, and its 500 tokens are spent too.
    const run = await conductor(["run", "--output", "plain"], options);
    expect(run.exitCode, run.all).toBe(0);
    expect(latestSummary(repo.root).totals.tokens.totalTokens).toBe(2500);

    const after = await conductor(["plan", "--estimate"], options);
    expect(after.exitCode, after.all).toBe(0);
    expect(after.stdout).toMatch(/pick-2\s+2 earlier\s+1k/);
    expect(after.stdout).toMatch(/judge of pick\s+1 earlier\s+500/);
    expect(after.stdout).toContain("expected: 2.5k tokens");
    expect(after.stdout).toContain(sessions);
    const json = await conductor(["plan", "--estimate", "--json"], options);
    const { estimate } = JSON.parse(json.stdout) as {
      estimate: { tokens: number; judges: { taskId: string; samples: number; tokens: number }[] };
    };
    expect(estimate.tokens).toBe(2500);
    expect(estimate.judges).toEqual([
      expect.objectContaining({ taskId: "pick", samples: 1, tokens: 500 }),
    ]);
  });
});
