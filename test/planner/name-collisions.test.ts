// Workspace names must be unique across the plan; a collision is a located error, never a silently
// shared worktree.
import { describe, expect, it } from "vitest";
import { planOf, planProblems } from "../helpers/planning.js";

describe("workspace name collisions", () => {
  it("refuse task a-2 next to task a with attempts 2, with one message at the later task", () => {
    const problems = planProblems(`version: 1
tasks:
  - id: a-2
    prompt: x
  - id: a
    prompt: x
    attempts: 2
`);
    expect(problems).toEqual([
      {
        keyPath: ["tasks", 1, "id"],
        at: "value",
        message: 'workspace name "a-2" is also a workspace of task "a-2"; rename one of the tasks',
      },
    ]);
  });

  it("refuse a task id equal to another task's matrix workspace name", () => {
    const problems = planProblems(`version: 1
tasks:
  - id: fix
    prompt: x
    matrix:
      model: [o3, o4]
  - id: fix-model-o3
    prompt: x
`);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.keyPath).toEqual(["tasks", 1, "id"]);
    expect(problems[0]?.message).toContain(
      'workspace name "fix-model-o3" is also a workspace of task "fix"',
    );
  });

  it("refuse matrix values that differ only by case or punctuation", () => {
    const problems = planProblems(`version: 1
tasks:
  - id: fix
    prompt: x
    matrix:
      model: [o4-mini, O4 Mini]
`);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.keyPath).toEqual(["tasks", 0, "matrix"]);
    expect(problems[0]?.message).toContain(
      'two matrix cells of "fix" give the same workspace name "fix-model-o4-mini"',
    );
  });

  it("allow ids that only look alike", () => {
    const plan = planOf(`version: 1
tasks:
  - id: a
    prompt: x
    attempts: 2
  - id: a-3
    prompt: x
  - id: a.2
    prompt: x
`);
    expect(plan.workspaces.map((w) => w.name)).toEqual(["a", "a-2", "a-3", "a.2"]);
    expect(new Set(plan.workspaces.map((w) => w.branch)).size).toBe(4);
  });
});
