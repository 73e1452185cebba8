import { appendFileSync, existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/report/summary.js";
import { elements, junitProblems, parseXml } from "./junit-shape.js";
import { type ReviewRepo, reviewRepo, runAll, waitFor } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

const FAILING_CHECK =
  "echo 'expected 2 <got> 3 & more'; echo 'AssertionError: sum is wrong' >&2; exit 1";

describe("conductor report", () => {
  it("redacts a report made again from a record a secret was written into after the run", async () => {
    const secret = "sk-report-redacted-2c8e6a4f1d";
    repo = await reviewRepo([{ id: "bad", check: "exit 1" }]);
    await runAll(repo);
    // The record is a file in the repository: a later agent could append to it.
    const runDir = repo.runDir();
    const forged = {
      type: "agent.activity",
      workspace: "bad",
      activity: { kind: "message", text: `leaked ${secret}` },
      time: new Date().toISOString(),
      runId: path.basename(runDir),
    };
    appendFileSync(path.join(runDir, "events.jsonl"), `${JSON.stringify(forged)}\n`);
    for (const format of ["markdown", "json", "junit"]) {
      const report = await repo.cli(["report", "--format", format], { OPENAI_API_KEY: secret });
      expect(report.exitCode, report.all).toBe(0);
      if (format === "markdown") expect(report.stdout).toContain("leaked [redacted]");
      expect(report.stdout, format).not.toContain(secret);
    }
  });

  it("prints the JSON summary, JUnit XML and Markdown of the latest run", async () => {
    repo = await reviewRepo([{ id: "good" }, { id: "bad", check: FAILING_CHECK }], {
      scripts: { check: "true" },
    });
    await runAll(repo);
    const runId = repo.runIds()[0] as string;

    const json = await repo.cli(["report", "--format", "json"]);
    expect(json.exitCode, json.all).toBe(0);
    const summary = JSON.parse(json.stdout) as RunSummary;
    expect(summary).toMatchObject({ formatVersion: 1, runId, status: "failed" });
    expect(summary.workspaces.map((workspace) => [workspace.name, workspace.status])).toEqual([
      ["good", "succeeded"],
      ["bad", "failed"],
    ]);
    // The same document the run wrote into its folder. (Its clock starts a moment before the
    // run.started event that `report` folds from, so the start time may differ by milliseconds.)
    const written = JSON.parse(readFileSync(path.join(repo.runDir(), "summary.json"), "utf8"));
    const clockless = (value: RunSummary) => ({
      ...value,
      createdAt: undefined,
      totals: { ...value.totals, durationMs: undefined },
    });
    expect(clockless(written)).toEqual(clockless(summary));

    const junit = await repo.cli(["report", "--format", "junit"]);
    expect(junit.exitCode, junit.all).toBe(0);
    const xml = parseXml(junit.stdout);
    expect(junitProblems(xml)).toEqual([]);
    const cases = elements(xml, "testcase");
    expect(cases.map((c) => [c.attributes.classname, c.attributes.name])).toEqual([
      ["conductor.good", "good"],
      ["conductor.bad", "bad"],
    ]);
    const [failure] = elements(xml, "failure");
    expect(failure?.attributes).toMatchObject({
      type: "exit-non-zero",
      message: "check failed (exit 1)",
    });
    expect(failure?.text).toContain("expected 2 <got> 3 & more");
    expect(failure?.text).toContain("AssertionError: sum is wrong");

    const markdown = await repo.cli(["report", "--format", "markdown"]);
    expect(markdown.exitCode, markdown.all).toBe(0);
    expect(markdown.stdout).toContain(`conductor run \`${runId}\`: failed`);
    expect(markdown.stdout).toContain(
      "| Workspace | Status | Duration | Tokens | Files (+/−) | Check | Branch |",
    );
    expect(markdown.stdout).toMatch(/^\| bad \| ❌ failed \|/m);
    expect(markdown.stdout).toContain("wrote good.txt");
  });

  it("writes the report to --out, reads an older run by id, and refuses an unknown format", async () => {
    repo = await reviewRepo([{ id: "first" }, { id: "second" }]);
    await runAll(repo, ["first"]);
    await runAll(repo, ["second"]);
    const [older] = repo.runIds() as [string];
    const out = path.join(repo.home, "reports", "older.xml");
    const written = await repo.cli(["report", older, "--format", "junit", "--out", out]);
    expect(written.exitCode, written.all).toBe(0);
    expect(written.stdout).toBe("");
    const xml = parseXml(readFileSync(out, "utf8"));
    expect(junitProblems(xml)).toEqual([]);
    expect(elements(xml, "testcase").map((c) => c.attributes.name)).toEqual(["first"]);

    // A file where a folder of --out should be is the command line's mistake: exit 2, no EEXIST.
    const file = path.join(repo.home, "reports", "older.xml", "report.json");
    for (const args of [
      ["report", "--out", file],
      ["report", "merge", repo.runDir(older), "--out", file],
    ]) {
      const blocked = await repo.cli(args);
      expect(blocked.exitCode, blocked.all).toBe(2);
      expect(blocked.stderr).toContain(`--out ${file}: ${out} is a file, not a folder`);
      expect(blocked.stderr).not.toContain("EEXIST");
    }
    expect(readFileSync(out, "utf8")).toContain("<testsuites");

    const bad = await repo.cli(["report", "--format", "html"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--format html is not a report format: use json, junit, markdown");
    expect(existsSync(path.join(repo.root, "html"))).toBe(false);
  });

  it("refuses an --out inside a run's folder, which would replace the record the report is made from", async () => {
    repo = await reviewRepo([{ id: "kept" }]);
    await runAll(repo);
    const runDir = repo.runDir();
    const record = ["events.jsonl", "run.json"].map((name) => path.join(runDir, name));
    const before = record.map((file) => readFileSync(file, "utf8"));
    // Through a link to the folder too: the path is judged where it leads.
    const link = path.join(repo.home, "runs-link");
    symlinkSync(path.dirname(runDir), link);
    const attempts = [
      ["report", "--format", "junit", "--out", record[0] as string],
      ["report", "--out", record[1] as string],
      ["report", "--format", "markdown", "--out", path.join(runDir, "workspaces", "kept", "x.md")],
      ["report", "--out", path.join(link, path.basename(runDir), "events.jsonl")],
      ["report", "merge", runDir, "--partial", "--out", record[0] as string],
    ];
    for (const args of attempts) {
      const refused = await repo.cli(args);
      expect(refused.exitCode, refused.all).toBe(2);
      expect(refused.stderr).toContain("conductor's record of runs");
    }
    expect(record.map((file) => readFileSync(file, "utf8"))).toEqual(before);
    expect(existsSync(path.join(runDir, "workspaces", "kept", "x.md"))).toBe(false);

    // The hint's --out works as printed, from the folder the command ran in.
    const refused = await repo.cli(["report", "--format", "junit", "--out", record[0] as string]);
    expect(refused.stderr).toContain("e.g. --out junit.xml");
    const pasted = await repo.cli(["report", "--format", "junit", "--out", "junit.xml"]);
    expect(pasted.exitCode, pasted.all).toBe(0);
    expect(readFileSync(path.join(repo.root, "junit.xml"), "utf8")).toContain("<testsuites");
    const status = await repo.cli(["status"]);
    expect(status.exitCode, status.all).toBe(0);
    expect(status.stdout).toContain("kept");
  });

  it("reports a workspace of a run still going as running in JUnit, not as cancelled", async () => {
    const agent = 'touch "$HOME/started"; while [ ! -e "$HOME/go" ]; do sleep 0.05; done';
    repo = await reviewRepo([{ id: "busy", agent }]);
    const { home } = repo;
    const child = repo.start(["run", "--output", "plain"]);
    await waitFor("the agent to start", () => existsSync(path.join(home, "started")));
    const during = await repo.cli(["report", "--format", "junit"]);
    writeFileSync(path.join(home, "go"), "");
    expect((await child).exitCode).toBe(0);
    expect(during.exitCode, during.all).toBe(0);
    const error = elements(parseXml(during.stdout), "error")[0];
    expect(error?.attributes).toEqual({
      message: "still running (in agent) when this report was made",
      type: "running",
    });
    expect(elements(parseXml(during.stdout), "testsuites")[0]?.attributes).toMatchObject({
      errors: "1",
    });
    const after = await repo.cli(["report", "--format", "junit"]);
    expect(elements(parseXml(after.stdout), "error")).toEqual([]);
  });

  it("appends the Markdown to $GITHUB_STEP_SUMMARY, and one it cannot write only warns", async () => {
    repo = await reviewRepo([{ id: "good" }]);
    const summary = path.join(repo.home, "step-summary.md");
    appendFileSync(summary, "# earlier step\n");
    const ran = await repo.cli(["run", "--output", "plain"], { GITHUB_STEP_SUMMARY: summary });
    expect(ran.exitCode, ran.all).toBe(0);
    const runId = repo.runIds().at(-1) as string;
    expect(readFileSync(summary, "utf8")).toBe(
      `# earlier step\n${readFileSync(path.join(repo.runDir(), "report.md"), "utf8")}\n`,
    );

    // A runner whose summary file cannot be written (its folder is gone) loses only that copy:
    // the run succeeded, its reports are in its folder, and it ends as it would have.
    const gone = path.join(repo.home, "no-such-folder", "step-summary.md");
    const again = await repo.cli(["run", "--output", "plain"], { GITHUB_STEP_SUMMARY: gone });
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stderr).toContain(
      `conductor: warning: could not append the report to $GITHUB_STEP_SUMMARY (${gone}):`,
    );
    expect(again.stderr).not.toContain("internal error");
    expect(again.stdout).toMatch(/Run \S+ succeeded\. Review with/);
    expect(repo.runIds().at(-1)).not.toBe(runId);
    expect(existsSync(path.join(repo.runDir(), "report.md"))).toBe(true);
    expect(existsSync(gone)).toBe(false);
  });
});
