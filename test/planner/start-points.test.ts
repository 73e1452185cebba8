// The pure side of where tasks start and where prompts come from: start points from resolved
// facts, what the plan hash covers, tasks made from issues, their ids.
import { describe, expect, it } from "vitest";
import { issueTaskId } from "../../src/planner/issue-tasks.js";
import type { IssueFacts, RepoFacts } from "../../src/planner/types.js";
import { FACTS, planOf, planProblems } from "../helpers/planning.js";

const A = "a".repeat(40);
const B = "b".repeat(40);

function issueFacts(number: number, title: string, updatedAt = "2026-12-01T00:00:00Z"): IssueFacts {
  return { number, title, body: `Body of ${number}.`, comments: [], updatedAt };
}

const withStarts = (starts: RepoFacts["starts"], more: Partial<RepoFacts> = {}): RepoFacts => ({
  ...FACTS,
  starts,
  ...more,
});

describe("start points in the plan", () => {
  const CONFIG = `version: 1
tasks:
  - id: old
    prompt: p
    from: v1
  - id: mine
    prompt: p
    branch: topic
`;

  it("a from: ref moving changes the hash; a branch: moving does not (its run moves it)", () => {
    const base = planOf(CONFIG, {
      facts: withStarts({ "from:v1": { commit: A }, "branch:topic": { commit: A } }),
    });
    const fromMoved = planOf(CONFIG, {
      facts: withStarts({ "from:v1": { commit: B }, "branch:topic": { commit: A } }),
    });
    const branchMoved = planOf(CONFIG, {
      facts: withStarts({ "from:v1": { commit: A }, "branch:topic": { commit: B } }),
    });
    expect(fromMoved.hash).not.toBe(base.hash);
    expect(branchMoved.hash).toBe(base.hash);
    expect(
      base.workspaces.map((workspace) => [workspace.branch, workspace.startPoint.kind]),
    ).toEqual([
      ["conductor/old", "ref"],
      ["topic", "branch"],
    ]);
  });

  it("a start the facts lack is a problem at the task's key, not a silent base", () => {
    const problems = planProblems(CONFIG, { facts: withStarts({ "from:v1": { commit: A } }) });
    expect(problems).toEqual([
      {
        keyPath: ["tasks", 1, "branch"],
        at: "value",
        message: "branch:topic was not resolved to a commit before planning",
      },
    ]);
  });
});

describe("tasks from issues", () => {
  it("ids come from number and title, valid whatever the title holds", () => {
    expect(issueTaskId(12, "Fix date parsing")).toBe("12-fix-date-parsing");
    expect(issueTaskId(7, "Crème brûlée: add `--json`!!")).toBe("7-creme-brulee-add-json");
    expect(issueTaskId(3, "🚀")).toBe("3");
    const long = issueTaskId(123, "word ".repeat(40));
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long).toMatch(/^123(-word)+$/);
  });

  it("tasks_from adds one task per listed issue, leaves issues with a task of their own alone, and hashes updatedAt", () => {
    const config = `version: 1
tasks_from:
  github_issues:
    label: conductor
tasks:
  - id: by-hand
    issue: 12
    prompt: Be careful.
`;
    const issues = { "12": issueFacts(12, "Fix dates"), "14": issueFacts(14, "Add flag") };
    const plan = planOf(config, { facts: { ...FACTS, issues, issueList: [12, 14] } });
    expect(plan.workspaces.map((workspace) => [workspace.name, workspace.issue])).toEqual([
      ["by-hand", 12],
      ["14-add-flag", 14],
    ]);
    expect(plan.workspaces[0]?.prompt).toBe(
      "# Fix dates (issue #12)\n\nBody of 12.\n\n## Further instructions\n\nBe careful.\n",
    );
    const edited = planOf(config, {
      facts: {
        ...FACTS,
        issues: { ...issues, "14": issueFacts(14, "Add flag", "2026-12-02T00:00:00Z") },
        issueList: [12, 14],
      },
    });
    expect(edited.hash).not.toBe(plan.hash);
  });

  it("an issue's text is not a template: {{...}} in it is kept as written", () => {
    const config = "version: 1\ntasks:\n  - id: t\n    issue: 5\n";
    const issues = { "5": { ...issueFacts(5, "Braces"), body: "Render {{name}} safely." } };
    const plan = planOf(config, { facts: { ...FACTS, issues } });
    expect(plan.workspaces[0]?.prompt).toContain("Render {{name}} safely.");
  });
});
