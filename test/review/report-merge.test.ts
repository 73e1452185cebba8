import { cp, mkdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/report/summary.js";
import { elements, junitProblems, parseXml } from "./junit-shape.js";
import { type ReviewRepo, reviewRepo, runAll } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** Five tasks, one chain of two, one failing check: enough for three uneven shards. */
const TASKS = [
  { id: "api" },
  { id: "api-docs", depends_on: ["api"] },
  { id: "flaky", check: "echo 'the flaky test failed'; exit 1" },
  { id: "lint" },
  { id: "ui" },
];

/** What differs between two runs of one plan by nature: ids, clocks, commits, log places. */
function comparable(summary: RunSummary): unknown {
  return {
    ...summary,
    runId: undefined,
    createdAt: undefined,
    finishedAt: undefined,
    totals: {
      ...summary.totals,
      durationMs: undefined,
      workspaceDurationMs: undefined,
      agentTimeMs: undefined,
    },
    // When the sessions ran (here the shards ran one after another, each a session of its own,
    // overlapping ones merge) and how long each step took are clocks too; which steps ran and
    // how they ended is not.
    sessions: undefined,
    workspaces: summary.workspaces.map((workspace) => ({
      ...workspace,
      durationMs: undefined,
      // Agent time (what budgets count) is the agents' wall clock, a clock like the others.
      agentTimeMs: undefined,
      steps: Object.fromEntries(
        Object.entries(workspace.steps).map(([step, record]) => [step, record?.status ?? null]),
      ),
      commit: workspace.commit === null ? null : "<commit>",
      failure: workspace.failure === null ? null : { ...workspace.failure, logPath: undefined },
    })),
  };
}

describe("conductor report merge", () => {
  it("joins the run folders of three shards into the report of the same plan run unsharded", async () => {
    repo = await reviewRepo(TASKS, { scripts: { check: "true" } });
    // Each CI job runs one shard and uploads its run folder; the report job downloads them all.
    const artifacts = path.join(repo.home, "artifacts");
    for (const shard of ["1/3", "2/3", "3/3"]) {
      await runAll(repo, ["--shard", shard]);
      const runId = repo.runIds().at(-1) as string;
      const artifact = path.join(artifacts, `shard-${shard.replace("/", "-of-")}`);
      await mkdir(artifact, { recursive: true });
      await cp(repo.runDir(runId), path.join(artifact, runId), { recursive: true });
    }
    expect(repo.runIds()).toHaveLength(3);
    const merged = await repo.cli([
      "report",
      "merge",
      ...["1-of-3", "2-of-3", "3-of-3"].map((shard) => path.join(artifacts, `shard-${shard}`)),
      "--format",
      "json",
    ]);
    expect(merged.exitCode, merged.all).toBe(0);
    // A shard whose job died before it uploaded: the others' report is not the run's.
    const twoOfThree = ["1-of-3", "3-of-3"].map((shard) => path.join(artifacts, `shard-${shard}`));
    const incomplete = await repo.cli(["report", "merge", ...twoOfThree, "--format", "junit"]);
    expect(incomplete.exitCode, incomplete.all).toBe(2);
    expect(incomplete.stderr).toContain("shard 2/3 of the plan is missing");
    expect(incomplete.stdout).toBe("");
    const partial = await repo.cli(["report", "merge", ...twoOfThree, "--partial"]);
    expect(partial.exitCode, partial.all).toBe(0);
    const partialNames = (JSON.parse(partial.stdout) as RunSummary).workspaces.map((w) => w.name);
    expect(partialNames.length).toBeGreaterThan(0);
    expect(partialNames.length).toBeLessThan(5);
    // Its Markdown (a CI step summary) says that it covers part of the plan.
    const partialMarkdown = await repo.cli([
      "report",
      "merge",
      ...twoOfThree,
      "--partial",
      "--format",
      "markdown",
    ]);
    expect(partialMarkdown.exitCode, partialMarkdown.all).toBe(0);
    expect(partialMarkdown.stdout).toContain(`(${partialNames.length} of 5 workspaces)`);

    // The same plan, run whole on the same base commit once the shards' branches are gone.
    for (const runId of repo.runIds()) {
      const archived = await repo.cli([
        "archive",
        "*",
        "--run",
        runId,
        "--delete-branch",
        "--force",
      ]);
      expect(archived.exitCode, archived.all).toBe(0);
    }
    await runAll(repo);
    const whole = await repo.cli(["report", "--format", "json"]);
    expect(whole.exitCode, whole.all).toBe(0);

    const mergedSummary = JSON.parse(merged.stdout) as RunSummary;
    const wholeSummary = JSON.parse(whole.stdout) as RunSummary;
    expect(mergedSummary.workspaces.map((workspace) => workspace.name)).toEqual([
      "api",
      "flaky",
      "lint",
      "ui",
      "api-docs",
    ]);
    expect(mergedSummary.runId.split("+")).toHaveLength(3);
    expect(comparable(mergedSummary)).toEqual(comparable(wholeSummary));

    // JUnit of the merge: valid, every workspace once, the failing one with its shard's log.
    const junit = await repo.cli(["report", "merge", artifacts, "--format", "junit"]);
    expect(junit.exitCode, junit.all).toBe(0);
    const xml = parseXml(junit.stdout);
    expect(junitProblems(xml)).toEqual([]);
    expect(elements(xml, "testcase")).toHaveLength(5);
    expect(elements(xml, "failure")[0]?.text).toContain("the flaky test failed");

    const markdown = await repo.cli(["report", "merge", artifacts, "--format", "markdown"]);
    expect(markdown.exitCode, markdown.all).toBe(0);
    expect(markdown.stdout).toMatch(/^\| flaky \| ❌ failed \|/m);
  });

  it("refuses to merge run folders of different plans", async () => {
    repo = await reviewRepo(TASKS.slice(0, 2));
    await runAll(repo, ["--shard", "1/2"]);
    await repo.write({ "src/new.txt": "the base moved\n" });
    await repo.commitAll("move the base");
    await runAll(repo, ["--shard", "2/2"]);
    const [a, b] = repo.runIds() as [string, string];
    const result = await repo.cli(["report", "merge", repo.runDir(a), repo.runDir(b)]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("only shards of the same plan can be merged");

    const src = path.join(repo.root, "src");
    const notARun = await repo.cli(["report", "merge", src]);
    expect(notARun.exitCode).toBe(2);
    expect(notARun.stderr).toContain(`${src} is not a run folder`);
  });

  it("refuses a file named as a run folder, or a run's summary.json, with exit 2", async () => {
    repo = await reviewRepo(TASKS.slice(0, 1));
    await runAll(repo);
    for (const file of [
      path.join(repo.root, "README.md"),
      path.join(repo.runDir(), "summary.json"),
    ]) {
      const result = await repo.cli(["report", "merge", file]);
      expect(result.exitCode, result.all).toBe(2);
      expect(result.stderr).toContain(`conductor: ${file} is not a run folder: it is a file`);
      expect(result.stderr).not.toContain("internal error");
    }
  });
});
