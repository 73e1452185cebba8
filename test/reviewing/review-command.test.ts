// `conductor review`, `review: auto` and `continue --fix-review` with the command agent:
// agent.review_command is a real shell command in the worktree, so it can do what a sandboxed
// codex cannot (edit files, commit), and conductor must put it all back.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ReviewRecord } from "../../src/reviewing/record.js";
import { latestSummary } from "../helpers/run-repo.js";
import { type ReviewRepo, reviewRepo, runAll, waitFor } from "../review/rig.js";

let repo: ReviewRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** A review_command printing codex's review JSON with a P1 on the task's file and a P3. */
const REVIEW_WITH_FINDINGS = `cat <<'JSON'
{"findings": [
  {"title": "[P1] Says the task id twice", "body": "The file repeats itself.", "priority": 1, "confidence_score": 0.9,
   "code_location": {"absolute_file_path": "$PWD/$CONDUCTOR_TASK_ID.txt", "line_range": {"start": 1, "end": 1}}},
  {"title": "[P3] Could be shorter", "body": "Nit.", "priority": 3}
 ],
 "overall_correctness": "patch is incorrect",
 "overall_explanation": "One real problem.",
 "overall_confidence_score": 0.6}
JSON`.replace("<<'JSON'", "<<JSON");

function record(repo: ReviewRepo, name: string): ReviewRecord {
  return JSON.parse(
    readFileSync(path.join(repo.runDir(), "workspaces", name, "review.json"), "utf8"),
  ) as ReviewRecord;
}

describe("the command agent's reviewer", () => {
  it("puts back files, the index and the branch a reviewer changed, and fails the review", async () => {
    repo = await reviewRepo([{ id: "meddled" }], {
      agent: {
        kind: "command",
        command: 'echo meddled > meddled.txt; echo "wrote meddled.txt"',
        review_command:
          'echo tampered >> meddled.txt; echo planted > planted.txt; git add planted.txt; git commit -qm sneaky; echo staged > staged.txt; git add staged.txt; echo \'{"findings":[],"overall_correctness":"patch is correct"}\'',
      },
    });
    await runAll(repo);
    const git = (...args: string[]) => repo?.git(...args) as Promise<string>;
    const head = await git("rev-parse", "conductor/meddled");
    const worktree = repo.worktree("meddled");
    const result = await repo.cli(["review", "meddled"]);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stdout).toMatch(
      /meddled: review failed: the reviewer changed the workspace: HEAD moved .*; conductor put everything back/,
    );
    expect(await git("rev-parse", "conductor/meddled")).toBe(head);
    expect(readFileSync(path.join(worktree, "meddled.txt"), "utf8")).toBe("meddled\n");
    const { execa } = await import("execa");
    expect((await execa("git", ["status", "--porcelain"], { cwd: worktree })).stdout).toBe("");
    expect(record(repo, "meddled")).toMatchObject({
      status: "failed",
      failure: { reason: "edited", paths: ["meddled.txt", "planted.txt", "staged.txt"] },
    });
    const checks = await repo.cli(["checks", "meddled", "--json"]);
    expect(checks.stdout).toContain("the review failed; try again: conductor review meddled --run");
  });

  it("gives the review command the start commit and the review request, and reads its JSON", async () => {
    repo = await reviewRepo([{ id: "told" }], {
      review: { instructions: "Check naming above all." },
      agent: {
        kind: "command",
        command: 'echo told > told.txt; echo "wrote told.txt"',
        review_command: `echo "$CONDUCTOR_REVIEW_BASE" > "$HOME/review-base"; cp "$CONDUCTOR_REVIEW_PROMPT_FILE" "$HOME/review-prompt"; ${REVIEW_WITH_FINDINGS}`,
      },
    });
    await runAll(repo);
    const start = latestSummary(repo.root).base.commit;
    const result = await repo.cli(["review", "--all"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(readFileSync(path.join(repo.home, "review-base"), "utf8").trim()).toBe(start);
    const prompt = readFileSync(path.join(repo.home, "review-prompt"), "utf8");
    expect(prompt).toMatch(/^# Review guidelines:/);
    expect(prompt).toContain(`git diff ${start}`);
    expect(prompt).toContain("Check naming above all.");
    expect(record(repo, "told")).toMatchObject({
      status: "completed",
      verdict: "incorrect",
      counts: [0, 1, 0, 1],
      findings: [
        {
          priority: 1,
          title: "Says the task id twice",
          file: "told.txt",
          lines: { start: 1, end: 1 },
        },
        { priority: 3, title: "Could be shorter" },
      ],
    });
    expect(result.stdout).toContain("conductor continue told --fix-review --priority 0,1");
  });
});

describe("an interrupted review", () => {
  it("ends the reviewer on SIGINT, records the review as cancelled and exits 130", async () => {
    repo = await reviewRepo([{ id: "slow" }], {
      agent: {
        kind: "command",
        command: 'echo slow > slow.txt; echo "wrote slow.txt"',
        review_command: 'touch "$HOME/reviewer-started"; sleep 30; echo "{}"',
      },
    });
    await runAll(repo);
    const child = repo.start(["review", "slow"]);
    const started = path.join(repo.home, "reviewer-started");
    await waitFor("the reviewer to start", () => existsSync(started));
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);
    expect(record(repo, "slow")).toMatchObject({
      status: "failed",
      failure: { reason: "cancelled" },
    });
  });
});

describe("review: auto and continue --fix-review", () => {
  it("reviews every workspace after a passing check, hands the P1 back, and reviews again", async () => {
    repo = await reviewRepo([{ id: "good" }, { id: "broken", check: "exit 3" }], {
      review: "auto",
      agent: {
        kind: "command",
        command:
          'echo "$CONDUCTOR_PROMPT" > "$HOME/prompt-$CONDUCTOR_TASK_ID"; echo "$CONDUCTOR_TASK_ID" >> "$CONDUCTOR_TASK_ID.txt"; echo done',
        review_command: REVIEW_WITH_FINDINGS,
      },
    });
    const run = await runAll(repo);
    expect(run.stdout).toContain("[good] review started (command)");
    expect(run.stdout).not.toContain("[broken] review started");
    const summary = latestSummary(repo.root);
    expect(summary.workspaces.find((w) => w.name === "good")?.review).toMatchObject({
      status: "completed",
      verdict: "incorrect",
      counts: [0, 1, 0, 1],
    });
    expect(summary.workspaces.find((w) => w.name === "broken")?.review).toBeNull();
    const junit = readFileSync(path.join(repo.runDir(), "junit.xml"), "utf8");
    expect(junit).toContain("review: patch is incorrect; 1 P1, 1 P3");
    const markdown = readFileSync(path.join(repo.runDir(), "report.md"), "utf8");
    expect(markdown).toContain("patch is incorrect; 1 P1, 1 P3");
    const firstHead = record(repo, "good").head;

    const fix = await repo.cli(["continue", "good", "--fix-review", "--priority", "1"]);
    expect(fix.exitCode, fix.all).toBe(0);
    const prompt = readFileSync(path.join(repo.home, "prompt-good"), "utf8");
    expect(prompt).toContain("1. [P1] Says the task id twice (good.txt:1)");
    expect(prompt).toContain("The file repeats itself.");
    expect(prompt).not.toContain("Could be shorter");
    // The fix is committed, then reviewed again on the new head.
    expect(fix.stdout).toContain("[good] review started (command)");
    expect(record(repo, "good").head).not.toBe(firstHead);
    expect(record(repo, "good").head).toBe(await repo.git("rev-parse", "conductor/good"));
  });

  it("checks warns when the branch moved on after its review", async () => {
    repo = await reviewRepo([{ id: "moved" }], {
      agent: {
        kind: "command",
        command: 'echo "$CONDUCTOR_PROMPT" >> moved.txt; echo done',
        review_command: REVIEW_WITH_FINDINGS,
      },
    });
    await runAll(repo);
    expect((await repo.cli(["review", "moved"])).exitCode).toBe(0);
    const reviewed = record(repo, "moved").head;
    expect((await repo.cli(["continue", "moved", "one more line"])).exitCode).toBe(0);
    const checks = await repo.cli(["checks", "moved", "--json"]);
    expect(checks.stdout).toContain(
      `the review is of ${reviewed.slice(0, 10)}, not of the branch's head; review again: conductor review moved --run`,
    );
  });

  it("refuses --fix-review for a workspace that was never reviewed", async () => {
    repo = await reviewRepo([{ id: "plain" }]);
    await runAll(repo);
    const result = await repo.cli(["continue", "plain", "--fix-review"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("workspace plain has no completed review to fix");
    expect(result.stderr).toContain("conductor review plain --run");
  });
});
