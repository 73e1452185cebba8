import { readFileSync, rmSync, truncateSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/report/summary.js";
import {
  groupMembers,
  killGroups,
  processAlive,
  type ReviewRepo,
  readOr,
  reviewRepo,
  runAll,
  waitFor,
} from "./rig.js";

let repo: ReviewRepo | undefined;
const started: number[] = [];

afterEach(async () => {
  // Process groups a killed conductor left behind (the test started them, so the test ends them).
  killGroups(started);
  await repo?.remove();
  repo = undefined;
});

describe("conductor status", () => {
  it("shows every workspace of a finished run with its step, check, diff, branch and path", async () => {
    repo = await reviewRepo([{ id: "alpha" }, { id: "beta" }], { scripts: { check: "true" } });
    await runAll(repo);
    const [runId] = repo.runIds();
    const result = await repo.cli(["status"]);
    expect(result.exitCode, result.all).toBe(0);
    const [header, , columns, ...rows] = result.stdout.split("\n");
    expect(header).toMatch(
      new RegExp(
        `^run ${runId} — succeeded — plan [0-9a-f]{12} — base main \\([0-9a-f]{10}\\) — 2 workspaces$`,
      ),
    );
    expect(columns?.split(/\s+/)).toEqual([
      "WORKSPACE",
      "STATUS",
      "STEP",
      "DURATION",
      "SETUP/AGENT/CHECK/COMMIT",
      "TOKENS",
      "FILES",
      "CHECK",
      "REVIEW",
      "BRANCH",
      "PATH",
    ]);
    const alpha = rows.find((row) => row.startsWith("alpha"))?.split(/\s{2,}/);
    expect(alpha).toEqual([
      "alpha",
      "succeeded",
      "commit",
      expect.stringMatching(/^\d+(ms|\.\ds|s)$/),
      // No setup script; the agent, the check and the commit took their own time.
      expect.stringMatching(/^-\/\d+(ms|\.\ds)\/\d+(ms|\.\ds)\/\d+(ms|\.\ds)$/),
      "-",
      "1 file +1 −0",
      "passed",
      "-",
      "conductor/alpha",
      repo.worktree("alpha"),
    ]);
    expect(rows.some((row) => row.startsWith("beta") && row.includes("succeeded"))).toBe(true);
  });

  it("shows where a failed workspace stopped, and --json prints the run summary", async () => {
    repo = await reviewRepo([
      { id: "good" },
      { id: "bad", check: "echo 'tests failed' >&2; exit 3" },
    ]);
    await runAll(repo);
    const text = await repo.cli(["status"]);
    expect(text.exitCode, text.all).toBe(0);
    expect(text.stdout).toMatch(/— failed —/);
    expect(text.stdout).toMatch(/^bad\s+failed\s+check\s+.*\bfailed\s+-\s+conductor\/bad\s/m);
    // The next step of a failed check is a follow-up on the same branch, not a resume.
    expect(text.stdout).toMatch(
      /^\s+bad\s+check failed:\s+see `conductor logs bad`, then fix it with `conductor continue bad "<what to change>"`$/m,
    );
    expect(text.stdout).not.toContain("run --resume");

    const json = await repo.cli(["status", "--json"]);
    expect(json.exitCode, json.all).toBe(0);
    const summary = JSON.parse(json.stdout) as RunSummary;
    expect(summary.formatVersion).toBe(1);
    expect(summary.status).toBe("failed");
    expect(summary.counts).toMatchObject({ succeeded: 1, failed: 1 });
    const bad = summary.workspaces.find((workspace) => workspace.name === "bad");
    expect(bad).toMatchObject({
      status: "failed",
      step: "check",
      check: "failed",
      failure: { reason: "exit-non-zero", step: "check" },
    });
  });

  it("reads a running run as live and a run whose conductor was killed as interrupted", async () => {
    // The padding line pushes "working" past the tail that the log's redaction holds back.
    const agent =
      'echo $$ > "$HOME/slow.pgid"; echo working; echo ................................; sleep 60';
    repo = await reviewRepo([{ id: "slow", agent }]);
    const { home } = repo;
    const child = repo.start(["run", "--output", "plain"]);
    await waitFor("the agent to start", () => readOr(path.join(home, "slow.pgid")).trim() !== "");
    const agentGroup = Number(readOr(path.join(home, "slow.pgid")));
    started.push(agentGroup);
    await waitFor("the agent's output", () =>
      readOr(path.join(repo?.runDir() ?? "", "workspaces", "slow", "agent.log")).includes(
        "working",
      ),
    );

    const live = await repo.cli(["status"]);
    expect(live.exitCode, live.all).toBe(0);
    expect(live.stdout).toContain(`running (live, pid ${child.pid})`);
    expect(live.stdout).toMatch(/^slow\s+running\s+agent\s+\d\S*…/m);
    // The running step's time so far, marked like the duration; steps that did not run are `-`.
    expect(live.stdout).toMatch(/^slow\s+running\s+agent\s+\d\S*…\s+-\/\d\S*…\/-\/-\s/m);
    const running = JSON.parse((await repo.cli(["status", "--json"])).stdout) as RunSummary;
    expect(running.workspaces[0]?.steps.agent).toMatchObject({
      status: "running",
      durationMs: null,
    });
    expect(running.workspaces[0]?.steps.agent?.totalMs).toBeGreaterThan(0);

    child.kill("SIGKILL");
    await child;
    expect(processAlive(child.pid as number)).toBe(false);
    const runId = repo.runIds()[0] as string;

    const after = await repo.cli(["status"]);
    expect(after.exitCode, after.all).toBe(0);
    expect(after.stdout).toMatch(new RegExp(`^run ${runId} — interrupted —`));
    expect(after.stdout).toMatch(/^slow\s+interrupted\s+agent\s/m);
    expect(after.stdout).toContain(`conductor run --resume ${runId}`);

    const json = await repo.cli(["status", "--json", runId.slice(0, 15)]);
    expect(json.exitCode, json.all).toBe(0);
    const summary = JSON.parse(json.stdout) as RunSummary;
    expect(summary.status).toBe("interrupted");
    expect(summary.finishedAt).toBeNull();
    expect(summary.workspaces[0]).toMatchObject({
      name: "slow",
      status: "interrupted",
      step: "agent",
    });
    expect(groupMembers(agentGroup).length).toBeGreaterThan(0); // the killed conductor could not end it
  });

  it("names a damaged latest run instead of saying the config file has no runs", async () => {
    repo = await reviewRepo([{ id: "torn" }]);
    await runAll(repo);
    const runDir = repo.runDir();
    const runId = path.basename(runDir);
    // A conductor killed while writing its first event: half a line, no run.json yet.
    const events = path.join(runDir, "events.jsonl");
    truncateSync(events, Math.floor(readFileSync(events, "utf8").indexOf("\n") / 2));
    rmSync(path.join(runDir, "run.json"));
    for (const args of [["status"], ["logs", "torn"], ["report"], ["diff", "torn"]]) {
      const result = await repo.cli(args);
      expect(result.exitCode, result.all).toBe(2);
      expect(result.stderr).not.toContain("there are no runs");
      expect(result.stderr).toContain(
        `run ${runId}, the latest whose config file cannot be told, is damaged`,
      );
    }
    // The printed next step works as pasted and says what is wrong.
    const hint = /`(conductor status --run \S+)`/.exec((await repo.cli(["status"])).stderr)?.[1];
    expect(hint).toBe(`conductor status --run ${runId}`);
    const pasted = await repo.cli((hint as string).split(" ").slice(1));
    expect(pasted.exitCode, pasted.all).toBe(2);
    expect(pasted.stderr).toContain(`${runDir} has no readable run state`);
  });

  it("shows a worktree removed by hand as gone, with a next step that works as printed", async () => {
    repo = await reviewRepo([{ id: "kept" }, { id: "removed" }]);
    await runAll(repo);
    const runId = repo.runIds()[0] as string;
    rmSync(repo.worktree("removed"), { recursive: true, force: true });

    const status = await repo.cli(["status"]);
    expect(status.exitCode, status.all).toBe(0);
    expect(status.stdout).toMatch(/^removed\s+succeeded\s.*\sconductor\/removed\s+\(gone\)$/m);
    expect(status.stdout).toMatch(new RegExp(`^kept\\s.*\\s${repo.worktree("kept")}$`, "m"));
    expect(status.stdout).toContain(
      `removed: its worktree ${repo.worktree("removed")} is gone; its branch conductor/removed is kept`,
    );
    const hint = /`(conductor clean --run \S+)`/.exec(status.stdout)?.[1];
    expect(hint).toBe(`conductor clean --run ${runId}`);
    const pasted = await repo.cli((hint as string).split(" ").slice(1));
    expect(pasted.exitCode, pasted.all).toBe(0);
    const after = await repo.cli(["status"]);
    expect(after.stdout).toMatch(/^removed\s+archived\s.*\(removed\)$/m);
    expect(after.stdout).not.toContain("is gone");
  });

  it("warns when it passes over a newer run whose record cannot be read", async () => {
    repo = await reviewRepo([{ id: "again" }]);
    await runAll(repo);
    await runAll(repo);
    const [older, newer] = repo.runIds() as [string, string];
    const events = path.join(repo.runDir(newer), "events.jsonl");
    truncateSync(events, Math.floor(readFileSync(events, "utf8").indexOf("\n") / 2));
    rmSync(path.join(repo.runDir(newer), "run.json"));
    const status = await repo.cli(["status", "--json"]);
    expect(status.exitCode, status.all).toBe(0);
    expect((JSON.parse(status.stdout) as RunSummary).runId).toBe(older);
    expect(status.stderr).toContain(
      `conductor: warning: run ${newer}, newer than run ${older}, is damaged and may be the latest of conductor.yaml`,
    );
    const hint = /`(conductor status --run \S+)`/.exec(status.stderr)?.[1];
    expect(hint).toBe(`conductor status --run ${newer}`);
    const pasted = await repo.cli((hint as string).split(" ").slice(1));
    expect(pasted.exitCode, pasted.all).toBe(2);
    expect(pasted.stderr).toContain("has no readable run state");
  });
});
