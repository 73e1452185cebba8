// Figures where people look: per-step times in `status` and `status --json`, and the tail of a
// failed step's log in the Markdown report.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/report/summary.js";
import { type ReviewRepo, reviewRepo, runAll } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** Milliseconds of a duration as conductor prints it: `850ms`, `1.2s`, `2m05s`. */
function ms(text: string): number {
  const match = /^(?:(\d+)m)?(\d+(?:\.\d+)?)(ms|s)?$/.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  const [, minutes = "0", value = "0", unit = "s"] = match;
  return Number(minutes) * 60_000 + Number(value) * (unit === "ms" ? 1 : 1000);
}

async function statusJson(repo: ReviewRepo): Promise<RunSummary> {
  const json = await repo.cli(["status", "--json"]);
  expect(json.exitCode, json.all).toBe(0);
  return JSON.parse(json.stdout) as RunSummary;
}

describe("per-step figures", () => {
  it("status shows setup/agent/check/commit times in one column, and --json per step, summed over a follow-up", async () => {
    repo = await reviewRepo(
      [{ id: "timed", agent: "sleep 0.6; date +%N >> timed.txt", check: "sleep 0.4" }],
      { scripts: { setup: "sleep 0.3" } },
    );
    await runAll(repo);
    const status = await repo.cli(["status"]);
    expect(status.exitCode, status.all).toBe(0);
    const lines = status.stdout.split("\n");
    const header = lines.find((line) => line.startsWith("WORKSPACE"))?.split(/\s+/) ?? [];
    const row = lines.find((line) => line.startsWith("timed "))?.split(/\s{2,}/) ?? [];
    const column = header.indexOf("SETUP/AGENT/CHECK/COMMIT");
    expect(column, status.stdout).toBeGreaterThan(0);
    const [setup, agent, check, commit] = (row[column] ?? "").split("/").map(ms);
    expect(setup).toBeGreaterThanOrEqual(300);
    expect(agent).toBeGreaterThanOrEqual(600);
    expect(check).toBeGreaterThanOrEqual(400);
    expect(commit).toBeGreaterThan(0);

    const first = await statusJson(repo);
    const steps = first.workspaces[0]?.steps;
    expect(steps?.setup?.totalMs).toBeGreaterThanOrEqual(300);
    expect(steps?.agent?.totalMs).toBeGreaterThanOrEqual(600);
    expect(steps?.check?.totalMs).toBeGreaterThanOrEqual(400);
    expect(steps?.commit?.status).toBe("succeeded");
    expect(steps?.worktree?.status).toBe("succeeded");

    const followUp = await repo.cli(["continue", "timed", "once more", "--output", "plain"]);
    expect(followUp.exitCode, followUp.all).toBe(0);
    const second = await statusJson(repo);
    const workspace = second.workspaces[0];
    const agentAgain = workspace?.steps.agent;
    // The follow-up's agent ran 0.6s more: the step's total holds both, its latest only the second.
    expect(agentAgain?.totalMs).toBe(
      (steps?.agent?.totalMs ?? 0) + (agentAgain?.durationMs ?? Number.NaN),
    );
    expect(agentAgain?.durationMs).toBeGreaterThanOrEqual(600);
    // A follow-up does no setup: its time is unchanged.
    expect(workspace?.steps.setup?.totalMs).toBe(steps?.setup?.totalMs);
    expect(workspace?.durationMs).toBeGreaterThan(
      (first.workspaces[0]?.durationMs ?? 0) + 600 + 400,
    );
  });

  it("the Markdown report shows the redacted tail of a failed check's log and where the log is", async () => {
    const secret = "tok-0123456789-secret";
    repo = await reviewRepo([
      {
        id: "broken",
        check:
          'for i in $(seq 1 40); do echo "check line $i"; done; echo "token is $API_TOKEN"; exit 1',
      },
    ]);
    const run = await repo.cli(["run", "--output", "plain"], { API_TOKEN: secret });
    expect(run.exitCode, run.all).toBe(1);
    const runId = repo.runIds()[0] as string;
    const written = readFileSync(path.join(repo.runDir(), "report.md"), "utf8");
    const printed = await repo.cli(["report", "--format", "markdown"]);
    expect(printed.exitCode, printed.all).toBe(0);
    for (const markdown of [written, printed.stdout]) {
      expect(markdown).not.toContain(secret);
      expect(markdown).toContain("token is [redacted]");
      // The last 30 lines: check lines 12 to 40 and the token line.
      expect(markdown).toContain("Last 30 lines of the check log");
      expect(markdown).toMatch(/^check line 12$/m);
      expect(markdown).toMatch(/^check line 40$/m);
      expect(markdown).not.toMatch(/^check line 11$/m);
      // Where the log is in the repository, not where it was on the machine that ran.
      expect(markdown).toContain(`log: \`.conductor/runs/${runId}/workspaces/broken/check.log\``);
      expect(markdown).not.toContain(repo.root);
    }
  });
});
