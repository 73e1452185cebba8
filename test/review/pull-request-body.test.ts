import { describe, expect, it } from "vitest";
import type { FoundWorkspace } from "../../src/executor/find-workspace.js";
import { issueNumber } from "../../src/review/pr-facts.js";
import { pullRequestBody } from "../../src/review/pull-request.js";

/** The parts of a finished workspace the body reads. */
function finished(extra: Record<string, unknown> = {}): FoundWorkspace {
  return {
    workspace: {
      name: "fix-crash",
      prompt: "Fix the crash on empty input",
      scripts: { check: "npm test" },
      startPoint: { kind: "base" },
      ...extra,
    },
    state: { check: "passed" },
    run: { runId: "20261204-000000-abcdef", plan: { hash: "0123456789abcdef" } },
  } as unknown as FoundWorkspace;
}

const facts = { finalMessage: "Fixed it.", diffStat: [], review: undefined, issue: undefined };

describe("pull request body", () => {
  it("closes the issue a task came from, right before the footer", () => {
    const body = pullRequestBody(finished(), { ...facts, issue: 12 });
    expect(body).toContain("Not reviewed.\n\nCloses #12\n\n---\n<sub>Made with conductor");
  });

  it("links no issue when the task has none, and says when nothing changed", () => {
    const body = pullRequestBody(finished(), facts);
    expect(body).not.toContain("Closes");
    expect(body).toContain("### Changes\n\n_(no changes)_\n");
  });

  it("reads the issue number a workspace carries, as a number or as { number }", () => {
    expect(issueNumber({ issue: 12 })).toBe(12);
    expect(issueNumber({ issue: { number: 7, updatedAt: "2026-12-01T00:00:00Z" } })).toBe(7);
    expect(issueNumber({})).toBeUndefined();
    expect(issueNumber({ issue: "12" })).toBeUndefined();
  });
});
