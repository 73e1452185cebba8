// Filtering: `conductor plan add-auth fix-*` plans the named tasks plus what they depend on.
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { planOf } from "../helpers/planning.js";

const CONFIG = `version: 1
tasks:
  - id: setup-db
    prompt: x
  - id: add-auth
    prompt: x
    depends_on: [setup-db]
  - id: auth-docs
    prompt: x
    depends_on: [add-auth]
  - id: fix-dates
    prompt: x
    attempts: 2
  - id: fix-typos
    prompt: x
  - id: refactor
    prompt: x
`;

const names = (patterns: string[]) =>
  planOf(CONFIG, { taskPatterns: patterns }).workspaces.map((w) => w.name);

describe("selecting tasks", () => {
  it("plans every task without patterns", () => {
    const plan = planOf(CONFIG);
    expect(plan.workspaces).toHaveLength(7);
    expect(plan.selection).toEqual({ taskPatterns: [], shard: undefined, totalWorkspaces: 7 });
  });

  it("plans add-auth fix-* plus what add-auth depends on", () => {
    expect(names(["add-auth", "fix-*"])).toEqual([
      "setup-db",
      "fix-dates",
      "fix-dates-2",
      "fix-typos",
      "add-auth",
    ]);
    const plan = planOf(CONFIG, { taskPatterns: ["add-auth", "fix-*"] });
    expect(plan.selection).toEqual({
      taskPatterns: ["add-auth", "fix-*"],
      shard: undefined,
      totalWorkspaces: 7,
    });
    expect(plan.levels).toEqual([
      ["setup-db", "fix-dates", "fix-dates-2", "fix-typos"],
      ["add-auth"],
    ]);
  });

  it("follows dependencies transitively", () => {
    expect(names(["auth-docs"])).toEqual(["setup-db", "add-auth", "auth-docs"]);
  });

  it("does not add dependents of a selected task", () => {
    expect(names(["setup-db"])).toEqual(["setup-db"]);
  });

  it("accepts overlapping patterns once", () => {
    expect(names(["fix-*", "fix-dates", "*-typos"])).toEqual([
      "fix-dates",
      "fix-dates-2",
      "fix-typos",
    ]);
  });

  it("refuses an unknown task id with a did-you-mean", () => {
    expect(() => names(["add-aut"])).toThrowError(UsageError);
    expect(() => names(["add-aut"])).toThrowError(
      'no task matches "add-aut". Did you mean "add-auth"?',
    );
  });

  it("refuses a glob that matches nothing, even next to one that matches", () => {
    expect(() => names(["fix-*", "docs-*"])).toThrowError('no task matches "docs-*"');
  });

  it("does not hash the selection: every subset has the whole plan's hash", () => {
    expect(planOf(CONFIG, { taskPatterns: ["refactor"] }).hash).toBe(planOf(CONFIG).hash);
  });
});
