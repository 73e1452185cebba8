import { describe, expect, it } from "vitest";
import { pullRequestItems } from "../../src/merge/github-items.js";
import {
  type PullRequestFacts,
  parsePullRequest,
  pullRequestSelector,
  type ReviewActivity,
} from "../../src/review/github-pr.js";
import { checkRun, pullRequest, statusContext } from "../helpers/gh-stand-in.js";

const HEAD = "a".repeat(40);

function facts(overrides: Record<string, unknown> = {}): PullRequestFacts {
  return parsePullRequest(pullRequest({ headRefOid: HEAD, ...overrides }));
}

function item(
  pr: PullRequestFacts,
  id: string,
  activity: ReviewActivity = { unresolved: [], deployments: [] },
) {
  return pullRequestItems(pr, HEAD, activity, undefined).find((entry) => entry.id === id);
}

describe("GitHub items of checks", () => {
  it("blocks on a failing check and still names the pending ones", () => {
    const pr = facts({
      statusCheckRollup: [
        checkRun("build", "SUCCESS"),
        checkRun("test", "FAILURE"),
        statusContext("ci/lint", "PENDING"),
        checkRun("e2e", ""),
      ],
    });
    expect(item(pr, "ci")).toMatchObject({
      level: "block",
      reason: expect.stringMatching(
        /^1 of 4 CI checks passed; failing: test \(.*\); pending: ci\/lint, e2e$/,
      ),
    });
  });

  it("warns while checks are pending, passes when all passed or were skipped", () => {
    expect(
      item(facts({ statusCheckRollup: [statusContext("ci/lint", "EXPECTED")] }), "ci")?.level,
    ).toBe("warn");
    const green = facts({
      statusCheckRollup: [checkRun("build", "SUCCESS"), checkRun("docs", "SKIPPED")],
    });
    expect(item(green, "ci")).toEqual({
      id: "ci",
      level: "pass",
      reason: "2 of 2 CI checks passed",
    });
  });

  it("weighs the pull request's state: draft warns, closed and conflicting block", () => {
    expect(item(facts({ isDraft: true }), "pr")?.level).toBe("warn");
    expect(item(facts({ state: "CLOSED" }), "pr")?.level).toBe("block");
    expect(item(facts({ mergeStateStatus: "DIRTY" }), "pr")?.reason).toContain(
      "has conflicts with main on GitHub",
    );
    expect(item(facts({ reviewDecision: "CHANGES_REQUESTED" }), "pr-review")?.level).toBe("block");
    expect(item(facts({ reviewDecision: "" }), "pr-review")?.level).toBe("info");
  });

  it("blocks on a failed deployment and says when threads could not be read", () => {
    const failed = {
      unresolved: [],
      deployments: [{ environment: "staging", state: "FAILURE", url: undefined }],
    };
    expect(item(facts(), "deployments", failed)).toEqual({
      id: "deployments",
      level: "block",
      reason: "deployment failed: staging failure",
    });
    const unknown = pullRequestItems(facts(), HEAD, undefined, "gh api graphql exited with code 1");
    expect(unknown.at(-1)).toEqual({
      id: "review-threads",
      level: "warn",
      reason: "review threads and deployments unknown: gh api graphql exited with code 1",
    });
  });

  it("finds a workspace's pull request by its pr: number, its branch's upstream, or its branch", () => {
    const base = { branch: "conductor/fix", startPoint: { kind: "base" } };
    expect(pullRequestSelector({ ...base, pullRequest: 12 })).toBe("12");
    expect(
      pullRequestSelector({
        branch: "feature/login",
        startPoint: { kind: "branch", upstream: { branch: "login" } },
      }),
    ).toBe("login");
    expect(pullRequestSelector(base)).toBe("conductor/fix");
  });
});
