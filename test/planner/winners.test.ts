// Tasks that pick a winner among several workspaces (select:), and tasks that start from it.
import { describe, expect, it } from "vitest";
import { splitSelectionProblems } from "../../src/planner/selections.js";
import { configFrom, planOf, planProblems, workspace } from "../helpers/planning.js";

const BEST_OF_TWO = `version: 1
tasks:
  - id: fix-dates
    prompt: Fix date parsing.
    attempts: 2
  - id: document
    prompt: Document it.
    depends_on: [fix-dates]
`;

describe("select:", () => {
  it("defaults to best for a task with attempts, whose winner takes the plain branch name", () => {
    const plan = planOf(BEST_OF_TWO);
    expect(plan.selections).toEqual([
      {
        taskId: "fix-dates",
        mode: "best",
        candidates: [
          { name: "fix-dates", branch: "conductor/fix-dates-1" },
          { name: "fix-dates-2", branch: "conductor/fix-dates-2" },
        ],
        branch: "conductor/fix-dates",
        archiveLosers: false,
        dependents: ["document"],
      },
    ]);
  });

  it("lets a dependent start from the winner, one level after its candidates", () => {
    const plan = planOf(BEST_OF_TWO);
    const dependent = workspace(plan, "document");
    expect(dependent.startPoint).toEqual({
      kind: "winner",
      task: "fix-dates",
      branch: "conductor/fix-dates",
    });
    expect(dependent.winnerOf).toEqual(["fix-dates"]);
    expect(dependent.dependsOn).toEqual([]);
    expect(plan.levels).toEqual([["fix-dates", "fix-dates-2"], ["document"]]);
  });

  it("merges a further winner dependency by its plain branch", () => {
    const plan = planOf(`version: 1
tasks:
  - id: api
    prompt: x
  - id: ui
    prompt: x
    matrix:
      model: [o3, o4-mini]
  - id: docs
    prompt: x
    depends_on: [api, ui]
`);
    const docs = workspace(plan, "docs");
    expect(docs.startPoint).toMatchObject({ kind: "workspace", workspace: "api" });
    expect(docs.mergeBranches).toEqual(["conductor/ui"]);
    expect(docs.dependsOn).toEqual(["api"]);
    expect(docs.winnerOf).toEqual(["ui"]);
  });

  it("takes mode and archive_losers from the top level, a task's own select winning", () => {
    const plan = planOf(`version: 1
select: { mode: first-passing, archive_losers: true }
tasks:
  - id: a
    prompt: x
    attempts: 2
  - id: b
    prompt: x
    attempts: 2
    select: best
  - id: c
    prompt: x
    attempts: 2
    select: manual
  - id: d
    prompt: x
`);
    expect(plan.selections?.map((s) => [s.taskId, s.mode, s.archiveLosers])).toEqual([
      ["a", "first-passing", true],
      ["b", "best", true],
    ]);
    // manual keeps today's names: the first attempt has the plain one.
    expect(workspace(plan, "c").branch).toBe("conductor/c");
    expect(workspace(plan, "d").branch).toBe("conductor/d");
  });

  it("leaves plans without several-workspace tasks as they were (no selections key)", () => {
    const plan = planOf("version: 1\ntasks:\n  - id: a\n    prompt: x\n");
    expect("selections" in plan).toBe(false);
    expect(configFrom("version: 1\ntasks:\n  - id: a\n    prompt: x\n")).not.toHaveProperty(
      "select",
    );
  });

  it("refuses a dependent of a winner whose branch template names the attempt", () => {
    const problems = planProblems(`version: 1
workspaces:
  branch: "try/{{task}}-{{attempt}}"
tasks:
  - id: fix
    prompt: x
    attempts: 2
  - id: docs
    prompt: x
    depends_on: [fix]
`);
    expect(problems.map((problem) => problem.message)).toEqual([
      expect.stringContaining(
        'tasks "docs" start from the winner of "fix", but the branch template "try/{{task}}-{{attempt}}" names the attempt',
      ),
    ]);
  });

  it("refuses a workspace whose branch is the name a winner takes", () => {
    const problems = planProblems(`version: 1
workspaces:
  branch: "x/{{task}}"
tasks:
  - id: fix
    prompt: x
    attempts: 2
  - id: fix-1
    prompt: x
`);
    expect(problems.map((problem) => problem.message)).toContain(
      'gives the same branch "x/fix-1" to workspaces "fix" and "fix-1"; include {{task}} in the template',
    );
  });
});

describe("sharding a task that picks a winner", () => {
  it("keeps the candidates and the dependents of the winner on one shard", () => {
    for (const index of [1, 2]) {
      const plan = planOf(
        `${BEST_OF_TWO}  - id: other\n    prompt: x\n  - id: more\n    prompt: x\n`,
        {
          shard: { index, count: 2 },
        },
      );
      const names = plan.workspaces.map((w) => w.name);
      expect(
        ["fix-dates", "fix-dates-2", "document"].every((name) => names.includes(name)) ||
          ["fix-dates", "fix-dates-2", "document"].every((name) => !names.includes(name)),
      ).toBe(true);
    }
  });

  it("refuses a split that would put a dependent on another shard than the candidates", () => {
    const plan = planOf(BEST_OF_TWO);
    const problems = splitSelectionProblems([["fix-dates"], ["document"]], plan.selections ?? []);
    expect(problems.map((problem) => problem.message)).toEqual([
      '--shard would run "document" on shard 2 and the candidates of "fix-dates", whose winner it starts from, on shard 1; a task and the tasks that start from its winner must run on one shard',
    ]);
    expect(splitSelectionProblems([["fix-dates", "document"], []], plan.selections ?? [])).toEqual(
      [],
    );
  });
});
