// depends_on is a DAG over tasks: the plan records levels, start points and merges, and a cycle is
// refused with its full path.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { configFrom, FACTS, planOf, workspace } from "../helpers/planning.js";

const DIAMOND = `version: 1
tasks:
  - id: docs
    prompt: Document the API and the client.
    depends_on: [api, client]
  - id: api
    prompt: Build the API.
    depends_on: [schema]
  - id: client
    prompt: Build the client.
    depends_on: [schema]
  - id: schema
    prompt: Design the schema.
  - id: lint
    prompt: Fix lint warnings.
    attempts: 2
`;

describe("dependencies", () => {
  const plan = planOf(DIAMOND);

  it("group workspaces into levels: dependencies before dependents", () => {
    expect(plan.levels).toEqual([["schema", "lint", "lint-2"], ["api", "client"], ["docs"]]);
    expect(plan.workspaces.map((w) => [w.name, w.level])).toEqual([
      ["schema", 0],
      ["lint", 0],
      ["lint-2", 0],
      ["api", 1],
      ["client", 1],
      ["docs", 2],
    ]);
  });

  it("start a workspace without dependencies from the base commit", () => {
    expect(workspace(plan, "schema").startPoint).toEqual({
      kind: "base",
      ref: "main",
      commit: FACTS.baseCommit,
    });
    expect(workspace(plan, "schema").mergeBranches).toEqual([]);
    expect(workspace(plan, "schema").dependsOn).toEqual([]);
  });

  it("start a dependent from its dependency's branch", () => {
    expect(workspace(plan, "api").startPoint).toEqual({
      kind: "workspace",
      workspace: "schema",
      branch: "conductor/schema",
    });
    expect(workspace(plan, "api").dependsOn).toEqual(["schema"]);
  });

  it("start from the first dependency and merge the second one in", () => {
    const docs = workspace(plan, "docs");
    expect(docs.startPoint).toEqual({
      kind: "workspace",
      workspace: "api",
      branch: "conductor/api",
    });
    expect(docs.mergeBranches).toEqual(["conductor/client"]);
    expect(docs.dependsOn).toEqual(["api", "client"]);
  });

  it("follow a custom branch template in start points and merges", () => {
    const custom = planOf(
      DIAMOND.replace("version: 1\n", "version: 1\nworkspaces:\n  branch: bot/{{task}}\n"),
    );
    expect(workspace(custom, "docs").startPoint).toMatchObject({ branch: "bot/api" });
    expect(workspace(custom, "docs").mergeBranches).toEqual(["bot/client"]);
  });

  it("refuse a cycle, naming every task on it in order", () => {
    const cycle = `version: 1
tasks:
  - id: a
    prompt: x
    depends_on: [b]
  - id: b
    prompt: x
    depends_on: [c]
  - id: c
    prompt: x
    depends_on: [d]
  - id: d
    prompt: x
    depends_on: [b]
  - id: e
    prompt: x
`;
    const error = catchConfigError(cycle);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({
      line: 14,
      column: 18,
      keyPath: "tasks[3].depends_on[0]",
      message: "dependency cycle: b → c → d → b; remove one of these depends_on entries",
    });
  });

  it("report each of two separate cycles once", () => {
    const error = catchConfigError(`version: 1
tasks:
  - id: a
    prompt: x
    depends_on: [b]
  - id: b
    prompt: x
    depends_on: [a]
  - id: c
    prompt: x
    depends_on: [d]
  - id: d
    prompt: x
    depends_on: [c]
`);
    expect(error.issues.map((issue) => issue.message)).toEqual([
      "dependency cycle: a → b → a; remove one of these depends_on entries",
      "dependency cycle: c → d → c; remove one of these depends_on entries",
    ]);
  });
});

function catchConfigError(yaml: string): ConfigError {
  try {
    configFrom(yaml);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected the config to be refused");
}
