import { describe, expect, it } from "vitest";
import {
  countByPriority,
  parseReviewOutput,
  reviewFromJson,
} from "../../src/reviewing/findings.js";
import { reviewResultOf } from "../../src/reviewing/result.js";

const WORKTREE = "/work/ws/fix";

const CODEX_JSON = {
  findings: [
    {
      title: "[P1] Off by one in the loop",
      body: "The loop stops one short.",
      confidence_score: 0.8,
      priority: 1,
      code_location: {
        absolute_file_path: "/work/ws/fix/src/loop.js",
        line_range: { start: 3, end: 5 },
      },
    },
    {
      title: "[P3] Naming",
      body: "`x` says nothing.",
      confidence_score: 0.4,
      priority: 3,
      code_location: {
        absolute_file_path: "/elsewhere/other.js",
        line_range: { start: 1, end: 1 },
      },
    },
  ],
  overall_correctness: "patch is incorrect",
  overall_explanation: "The loop is wrong.",
  overall_confidence_score: 0.7,
};

describe("parseReviewOutput", () => {
  it("reads codex's review JSON into typed findings with worktree-relative files", () => {
    const review = parseReviewOutput(JSON.stringify(CODEX_JSON), { worktree: WORKTREE });
    expect(review).toEqual({
      verdict: "incorrect",
      explanation: "The loop is wrong.",
      confidence: 0.7,
      form: "json",
      problems: [],
      findings: [
        {
          priority: 1,
          title: "Off by one in the loop",
          body: "The loop stops one short.",
          file: "src/loop.js",
          lines: { start: 3, end: 5 },
          confidence: 0.8,
        },
        {
          priority: 3,
          title: "Naming",
          body: "`x` says nothing.",
          file: "/elsewhere/other.js",
          lines: { start: 1, end: 1 },
          confidence: 0.4,
        },
      ],
    });
    expect(countByPriority(review.findings)).toEqual([0, 1, 0, 1]);
  });

  it("finds the JSON inside a code fence or surrounded by prose", () => {
    const fenced = parseReviewOutput(
      `Here is my review:\n\`\`\`json\n${JSON.stringify({ ...CODEX_JSON, findings: [] })}\n\`\`\`\nThanks.`,
    );
    expect(fenced.form).toBe("json");
    expect(fenced.verdict).toBe("incorrect");
    const prose = parseReviewOutput(
      `Summary first. ${JSON.stringify({ findings: [], overall_correctness: "patch is correct" })} done`,
    );
    expect(prose.verdict).toBe("correct");
    expect(prose.problems).toEqual([]);
  });

  it("tolerates missing fields, taking the priority from the title and naming each gap", () => {
    const review = parseReviewOutput(
      JSON.stringify({
        findings: [
          { title: "[P0] Deletes the database", body: "rm -rf" },
          { title: "No priority at all" },
          { body: "Only a body\nsecond line", priority: "P2" },
          "not an object",
          {},
          { title: "Bad range", priority: 1, code_location: { line_range: { start: 9, end: 2 } } },
        ],
      }),
    );
    expect(review.verdict).toBe("unknown");
    expect(review.explanation).toBe("");
    expect(review.findings).toEqual([
      { priority: 0, title: "Deletes the database", body: "rm -rf" },
      { priority: 3, title: "No priority at all", body: "" },
      { priority: 2, title: "Only a body", body: "Only a body\nsecond line" },
      { priority: 1, title: "Bad range", body: "" },
    ]);
    expect(review.problems).toEqual([
      "the review has no overall_correctness verdict",
      "finding 2 has no priority; counted as P3",
      "finding 4 is not an object; left out",
      "finding 5 has neither title nor body; left out",
    ]);
  });

  it("reads the text codex renders from the JSON: findings and bodies, but no verdict", () => {
    const text = [
      "The loop is wrong.",
      "",
      "Review comment:",
      "",
      "- [P1] Off by one — /work/ws/fix/src/loop.js:3-5",
      "  The loop stops one short.",
      "  Second line of the body.",
      "- [P2] Missing test — /work/ws/fix/test/loop.test.js:10-10",
      "  No test covers the empty list.",
    ].join("\n");
    const review = parseReviewOutput(text, { worktree: WORKTREE });
    expect(review.form).toBe("rendered");
    expect(review.verdict).toBe("unknown");
    expect(review.explanation).toBe("The loop is wrong.");
    expect(review.findings).toEqual([
      {
        priority: 1,
        title: "Off by one",
        body: "The loop stops one short.\nSecond line of the body.",
        file: "src/loop.js",
        lines: { start: 3, end: 5 },
      },
      {
        priority: 2,
        title: "Missing test",
        body: "No test covers the empty list.",
        file: "test/loop.test.js",
        lines: { start: 10, end: 10 },
      },
    ]);
    expect(review.problems).toEqual(["the rendered review carries no verdict"]);
  });

  it("keeps output that is neither JSON nor a rendered review as the explanation, unparsed", () => {
    const review = parseReviewOutput("I looked around and it seems fine?");
    expect(review).toEqual({
      verdict: "unknown",
      explanation: "I looked around and it seems fine?",
      findings: [],
      form: "unparsed",
      problems: ["the reviewer's answer is neither review JSON nor a rendered review"],
    });
    expect(parseReviewOutput("   \n").problems).toEqual(["the reviewer's answer is empty"]);
    expect(parseReviewOutput('{"findings": [1, 2').form).toBe("unparsed");
    expect(parseReviewOutput('{"unrelated": true}').form).toBe("unparsed");
  });

  it("reads conductor's own verdict form too", () => {
    expect(reviewFromJson({ verdict: "correct", findings: [] }).verdict).toBe("correct");
    expect(reviewFromJson({ verdict: "incorrect" }).verdict).toBe("incorrect");
    expect(reviewFromJson([1, 2]).form).toBe("unparsed");
    expect(reviewFromJson({ findings: "many" }).problems).toContain("findings is not a list");
  });
});

describe("reviewResultOf", () => {
  it("counts open findings by priority and the blocking P0/P1 ones", () => {
    expect(
      reviewResultOf({
        status: "completed",
        verdict: "incorrect",
        head: "abc",
        findings: [
          { priority: 0 },
          { priority: 1 },
          { priority: 1, resolved: true },
          { title: "[P2] from the title" },
          {},
        ],
      }),
    ).toEqual({
      status: "completed",
      verdict: "incorrect",
      byPriority: [1, 1, 1, 1],
      openBlocking: 2,
      head: "abc",
    });
  });

  it("reads a reviewer's raw JSON as a completed review and garbage as a failed one", () => {
    expect(reviewResultOf(CODEX_JSON)).toMatchObject({ status: "completed", verdict: "incorrect" });
    expect(reviewResultOf(undefined)).toMatchObject({ status: "failed", verdict: "unknown" });
    expect(reviewResultOf({ status: "skipped" })).toMatchObject({
      status: "skipped",
      openBlocking: 0,
    });
  });
});
