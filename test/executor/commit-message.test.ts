import { describe, expect, it } from "vitest";
import { commitMessage, isCommitOf, summarize } from "../../src/executor/commit-message.js";

describe("commit messages", () => {
  it("start with the task id and a summary of the instructions, and end in conductor's trailers", () => {
    expect(
      commitMessage({
        taskId: "fix-average",
        workspace: "fix-average-2",
        runId: "20260101-100000-abcd",
        instructions: "Make average([]) return 0.\n\nIt divides by the length.",
        check: "failed",
      }),
    ).toBe(
      [
        "fix-average: make average([]) return 0",
        "",
        "Conductor-Run: 20260101-100000-abcd",
        "Conductor-Task: fix-average",
        "Conductor-Workspace: fix-average-2",
        "Conductor-Check: failed",
        "",
      ].join("\n"),
    );
  });

  it.each([
    ["# Fix the parser\n\nDetails.", "fix the parser"],
    ["\n\n  - Add a README section.", "add a README section"],
    ["> Quote: keep it", "quote: keep it"],
    ["1. First do this;", "first do this"],
    ["README needs work", "README needs work"],
    ["API keys go in .env", "API keys go in .env"],
    ["tab\there\u0007bell", "tab here bell"],
    ["", ""],
  ])("summarizes %j as %j", (instructions, summary) => {
    expect(summarize(instructions, 60)).toBe(summary);
  });

  it("cuts a long first line at a word boundary, and a single long word where it must", () => {
    const long = "Rewrite the date parsing module so that it accepts ISO weeks and ordinal dates";
    const cut = summarize(long, 40);
    expect(cut).toBe("rewrite the date parsing module so that…");
    expect(cut.length).toBeLessThanOrEqual(40);
    expect(summarize(`https://example.com/${"x".repeat(80)}`, 30)).toHaveLength(30);
  });

  it("keeps the subject within 72 characters, whatever the task id", () => {
    const message = commitMessage({
      taskId: "a-rather-long-task-identifier",
      workspace: "w",
      runId: "r",
      instructions: "word ".repeat(40),
      check: "passed",
    });
    expect(message.split("\n")[0]?.length).toBeLessThanOrEqual(72);
  });

  it("recognises its own run's commits by their trailers", () => {
    const message = commitMessage({
      taskId: "t",
      workspace: "t-2",
      runId: "run-1",
      instructions: "x",
      check: "none",
    });
    expect(isCommitOf(message, "run-1", "t-2")).toBe(true);
    expect(isCommitOf(message, "run-2", "t-2")).toBe(false);
    expect(isCommitOf(message, "run-1", "t")).toBe(false);
  });
});
