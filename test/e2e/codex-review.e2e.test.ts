// End-to-end: `conductor review` with the real codex binary (`codex exec review`) against the
// scripted model server, which answers review requests with scripted findings.
import { readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { markerScript, reviewReply, type ScriptedReply } from "../../src/model-server/server.js";
import type { ReviewRecord } from "../../src/reviewing/record.js";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig, runIds } from "../helpers/run-repo.js";
import { useScriptedCodex } from "../helpers/scripted-agents.js";

/** Per-test routes of the shared server: task prompts carry a marker, reviews go by folder. */
const routes: Record<string, readonly ScriptedReply[]> = {};
const reviews: Record<string, readonly ScriptedReply[]> = {};
const codex = useScriptedCodex((request) => markerScript(routes, reviews)(request));
let repo: TestRepo;

afterEach(async () => {
  await repo?.remove();
});

interface TaskSpec {
  id: string;
  steps: ScriptedReply[];
  /** The reviewer's replies, given the workspace's worktree. */
  review?: (worktree: string) => ScriptedReply[];
}

/** Workspace folders are named `<id>-<marker>` so that reviews of every test route apart. */
async function codexRepo(tasks: TaskSpec[], extra: Record<string, unknown> = {}) {
  const marker = Math.random().toString(36).slice(2, 8);
  for (const task of tasks) routes[`[${marker}:${task.id}]`] = task.steps;
  repo = await repoWithConfig(
    {
      ...codex.config(),
      ...extra,
      tasks: tasks.map((task) => ({
        id: task.id,
        prompt: `Do ${task.id}. [${marker}:${task.id}]`,
      })),
    },
    { "README.md": "# e2e\n", "src/lib.js": "export const one = 1;\n" },
  );
  const dir = path.join(repo.home, "workspaces");
  for (const task of tasks) {
    if (task.review) reviews[task.id] = task.review(path.join(dir, task.id));
  }
  return { ...repo, dir };
}

function reviewRecord(root: string, name: string): ReviewRecord {
  const runId = runIds(root).at(-1) as string;
  const file = path.join(root, ".conductor", "runs", runId, "workspaces", name, "review.json");
  return JSON.parse(readFileSync(file, "utf8")) as ReviewRecord;
}

function reviewMarkdown(root: string, name: string): string {
  const runId = runIds(root).at(-1) as string;
  return readFileSync(
    path.join(root, ".conductor", "runs", runId, "workspaces", name, "review.md"),
    "utf8",
  );
}

describe("conductor review with the real codex", () => {
  it("records typed findings and the verdict, marks a finding outside the diff, and checks blocks on the P1", async () => {
    const { root, home, dir } = await codexRepo([
      {
        id: "rv-loop",
        steps: [
          { kind: "exec", cmd: "printf 'export const two = 1;\\n' > src/two.js" },
          { kind: "message", text: "Added two." },
        ],
        review: (worktree) => [
          { kind: "exec", cmd: "git diff --stat" },
          reviewReply("patch is incorrect", "two is 1.", [
            {
              priority: 1,
              title: "two is one",
              body: "`two` is exported as 1.",
              file: path.join(worktree, "src", "two.js"),
              start: 1,
              end: 1,
            },
            {
              priority: 3,
              title: "lib could say why",
              body: "Not part of this change.",
              file: path.join(worktree, "src", "lib.js"),
              start: 1,
              end: 1,
            },
          ]),
        ],
      },
    ]);
    expect((await conductor(["run", "--output", "plain"], { cwd: root, home })).exitCode).toBe(0);
    const result = await conductor(["review", "rv-loop"], { cwd: root, home });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("[rv-loop] review started (codex)");
    expect(result.stdout).toContain("rv-loop: patch is incorrect; 1 P1, 1 P3");

    const request = codex.server.requests.find((candidate) => candidate.review);
    expect(request?.cwd).toBe(path.join(dir, "rv-loop"));

    const record = reviewRecord(root, "rv-loop");
    expect(record).toMatchObject({
      status: "completed",
      verdict: "incorrect",
      explanation: "two is 1.",
      counts: [0, 1, 0, 1],
      form: "json",
      problems: [],
    });
    expect(record.findings).toEqual([
      {
        priority: 1,
        title: "two is one",
        body: "`two` is exported as 1.",
        file: "src/two.js",
        lines: { start: 1, end: 1 },
        confidence: 0.8,
      },
      {
        priority: 3,
        title: "lib could say why",
        body: "Not part of this change.",
        file: "src/lib.js",
        lines: { start: 1, end: 1 },
        confidence: 0.8,
        outsideDiff: true,
      },
    ]);
    expect(reviewMarkdown(root, "rv-loop")).toContain(
      "`src/lib.js:1` (confidence 0.8, outside the diff)",
    );

    const status = await conductor(["status"], { cwd: root, home });
    expect(status.stdout).toMatch(/rv-loop .* incorrect: 1 P1, 1 P3 /);
    const checks = await conductor(["checks", "rv-loop", "--json"], { cwd: root, home });
    expect(checks.exitCode).toBe(1);
    expect(checks.stdout).toContain(
      "review says the patch is incorrect; open findings: 1 P1, 1 P3",
    );
    const summary = latestSummary(root);
    expect(summary.workspaces[0]?.review).toMatchObject({
      status: "completed",
      verdict: "incorrect",
      counts: [0, 1, 0, 1],
    });
  });

  it("skips a workspace with no changes without asking the model", async () => {
    const { root, home } = await codexRepo([
      {
        id: "rv-empty",
        steps: [{ kind: "message", text: "Nothing to do." }],
        review: () => [reviewReply("patch is correct", "unreachable")],
      },
    ]);
    expect((await conductor(["run", "--output", "plain"], { cwd: root, home })).exitCode).toBe(0);
    const before = codex.server.requests.length;
    const result = await conductor(["review", "rv-empty"], { cwd: root, home });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("rv-empty: nothing to review (no changes)");
    expect(codex.server.requests.slice(before).some((request) => request.review)).toBe(false);
    expect(reviewRecord(root, "rv-empty")).toMatchObject({ status: "skipped", findings: [] });
    const checks = await conductor(["checks", "rv-empty", "--json"], { cwd: root, home });
    expect(checks.stdout).toContain("not reviewed: the branch has no changes");
  });

  it("fails the review, keeping the answer in review.md, when the reviewer answers no review", async () => {
    const { root, home } = await codexRepo([
      {
        id: "rv-garbled",
        steps: [
          { kind: "exec", cmd: "echo more >> README.md" },
          { kind: "message", text: "Done." },
        ],
        review: () => [{ kind: "message", text: "I think it is fine, probably." }],
      },
    ]);
    expect((await conductor(["run", "--output", "plain"], { cwd: root, home })).exitCode).toBe(0);
    const result = await conductor(["review", "rv-garbled"], { cwd: root, home });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stdout).toContain(
      "rv-garbled: review failed: the reviewer's answer is not a review",
    );
    const record = reviewRecord(root, "rv-garbled");
    expect(record).toMatchObject({
      status: "failed",
      verdict: "unknown",
      form: "unparsed",
      explanation: "I think it is fine, probably.",
      failure: { reason: "malformed" },
    });
    expect(reviewMarkdown(root, "rv-garbled")).toContain("I think it is fine, probably.");
    const checks = await conductor(["checks", "rv-garbled", "--json"], { cwd: root, home });
    expect(checks.stdout).toContain("the review failed; try again");
  });

  it("leaves the worktree as it was when the reviewer tries to edit a file (codex's sandbox refuses)", async () => {
    const { root, home, dir } = await codexRepo([
      {
        id: "rv-edit",
        steps: [
          { kind: "exec", cmd: "echo change >> README.md" },
          { kind: "message", text: "Done." },
        ],
        review: () => [
          { kind: "exec", cmd: "echo reviewer-was-here >> README.md; touch planted.txt" },
          reviewReply("patch is correct", "Fine."),
        ],
      },
    ]);
    expect((await conductor(["run", "--output", "plain"], { cwd: root, home })).exitCode).toBe(0);
    const worktree = path.join(dir, "rv-edit");
    const before = readFileSync(path.join(worktree, "README.md"), "utf8");
    const result = await conductor(["review", "rv-edit"], { cwd: root, home });
    expect(readFileSync(path.join(worktree, "README.md"), "utf8")).toBe(before);
    expect(() => readFileSync(path.join(worktree, "planted.txt"))).toThrow();
    expect((await execa("git", ["status", "--porcelain"], { cwd: worktree })).stdout).toBe("");
    // Codex's read-only sandbox refuses the writes; the review itself goes on.
    const outputs = codex.server.requests
      .filter((request) => request.review && request.cwd === worktree)
      .flatMap((request) => request.toolOutputs);
    expect(outputs.join("\n")).toContain("README.md: Read-only file system");
    expect(result.exitCode, result.all).toBe(0);
    expect(reviewRecord(root, "rv-edit")).toMatchObject({
      status: "completed",
      verdict: "correct",
    });
  });

  it("with review: auto, reviews after the passing check; --fix-review sends the P1 back and the fix is reviewed again", async () => {
    const { root, home, git } = await codexRepo(
      [
        {
          id: "rv-auto",
          steps: [
            { kind: "exec", cmd: "printf 'export const two = 1;\\n' > src/two.js" },
            { kind: "message", text: "Added two." },
          ],
          review: (worktree) => [
            reviewReply("patch is incorrect", "two is 1.", [
              {
                priority: 1,
                title: "two is one",
                body: "`two` is exported as 1 [fix-two].",
                file: path.join(worktree, "src", "two.js"),
                start: 1,
                end: 1,
              },
            ]),
          ],
        },
      ],
      { review: "auto", scripts: { check: "test -f src/two.js" } },
    );
    // The follow-up prompt quotes the finding's body, marker included.
    routes["[fix-two]"] = [
      { kind: "exec", cmd: "printf 'export const two = 2;\\n' > src/two.js" },
      { kind: "message", text: "two is 2 now." },
    ];
    const run = await conductor(["run", "--output", "plain"], { cwd: root, home });
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toContain("[rv-auto] ! review: patch is incorrect; 1 P1");
    const first = reviewRecord(root, "rv-auto");
    expect(first.head).toBe(await git("rev-parse", "conductor/rv-auto"));

    const fix = await conductor(["continue", "rv-auto", "--fix-review", "--priority", "0,1"], {
      cwd: root,
      home,
    });
    expect(fix.exitCode, fix.all).toBe(0);
    const followUp = codex.server.requests.find((request) => request.prompt.includes("[fix-two]"));
    expect(followUp?.prompt).toContain("1. [P1] two is one (src/two.js:1)");
    expect(await git("show", "conductor/rv-auto:src/two.js")).toBe("export const two = 2;");
    const second = reviewRecord(root, "rv-auto");
    expect(second.head).toBe(await git("rev-parse", "conductor/rv-auto"));
    expect(second.head).not.toBe(first.head);
  });
});
