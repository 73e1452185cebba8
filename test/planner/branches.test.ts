// Branch names: rendered from the template, suffixed when the template does not tell a task's
// workspaces apart, always valid git refs, and never shared by two workspaces.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { branchNameProblem } from "../../src/schema/git-ref.js";
import { FACTS, planOf, planProblems } from "../helpers/planning.js";

const branches = (yaml: string) => planOf(yaml).workspaces.map((w) => [w.name, w.branch]);

const TASKS = `tasks:
  - id: add-auth
    prompt: x
    attempts: 2
  - id: fix
    prompt: x
    matrix:
      model: [o4-mini, o3]
`;

describe("branch names", () => {
  it("suffix the default conductor/{{task}} with the workspace name's suffix, -1 for a first attempt that competes", () => {
    // select: best (the default with attempts) keeps conductor/add-auth for the winner.
    expect(branches(`version: 1\n${TASKS}`)).toEqual([
      ["add-auth", "conductor/add-auth-1"],
      ["add-auth-2", "conductor/add-auth-2"],
      ["fix-model-o4-mini", "conductor/fix-model-o4-mini"],
      ["fix-model-o3", "conductor/fix-model-o3"],
    ]);
  });

  it("are not suffixed when the template names the attempt and the matrix keys", () => {
    const yaml = `version: 1
workspaces:
  branch: "agents/{{task}}/{{matrix.model}}/try-{{attempt}}"
tasks:
  - id: fix
    prompt: x
    attempts: 2
    matrix:
      model: [o4-mini, o3]
`;
    expect(branches(yaml).map(([, branch]) => branch)).toEqual([
      "agents/fix/o4-mini/try-1",
      "agents/fix/o4-mini/try-2",
      "agents/fix/o3/try-1",
      "agents/fix/o3/try-2",
    ]);
  });

  it("are not suffixed when the template names the attempt with spaces inside the braces", () => {
    const yaml = `version: 1
workspaces:
  branch: "try/{{task}}-{{ attempt }}"
tasks:
  - id: fix
    prompt: x
    attempts: 2
`;
    expect(branches(yaml).map(([, branch]) => branch)).toEqual(["try/fix-1", "try/fix-2"]);
  });

  it("get the whole suffix when the template names the attempt but not the matrix", () => {
    const yaml = `version: 1
workspaces:
  branch: "try/{{task}}-{{attempt}}"
tasks:
  - id: fix
    prompt: x
    matrix:
      model: [a, b]
`;
    expect(branches(yaml).map(([, branch]) => branch)).toEqual([
      "try/fix-1-model-a",
      "try/fix-1-model-b",
    ]);
  });

  it("keep {{run}} literal without a run id and fill it with one", () => {
    const yaml = `version: 1
workspaces:
  branch: "conductor/{{run}}/{{task}}"
env:
  RUN: "run {{run}} of {{task}}"
tasks:
  - id: fix
    prompt: "Run {{run}}."
`;
    const planned = planOf(yaml).workspaces[0];
    expect(planned?.branch).toBe("conductor/{{run}}/fix");
    expect(planned?.prompt).toBe("Run {{run}}.");
    expect(planned?.env.RUN).toBe("run {{run}} of fix");
    expect(planned?.env).not.toHaveProperty("CONDUCTOR_RUN_ID");

    const run = planOf(yaml, { runId: "20250101-120000-ab12" });
    const filled = run.workspaces[0];
    expect(run.runId).toBe("20250101-120000-ab12");
    expect(filled?.branch).toBe("conductor/20250101-120000-ab12/fix");
    expect(filled?.prompt).toBe("Run 20250101-120000-ab12.");
    expect(filled?.env.RUN).toBe("run 20250101-120000-ab12 of fix");
    expect(filled?.env.CONDUCTOR_RUN_ID).toBe("20250101-120000-ab12");
  });

  it("that collide are an error naming both workspaces", () => {
    const problems = planProblems(`version: 1
workspaces:
  branch: "conductor/{{attempt}}"
tasks:
  - id: a
    prompt: x
  - id: b
    prompt: x
`);
    expect(problems).toEqual([
      {
        keyPath: ["workspaces", "branch"],
        at: "value",
        message:
          'gives the same branch "conductor/1" to workspaces "a" and "b"; include {{task}} in the template',
      },
    ]);
  });

  it("that nest (conductor/api and conductor/api/v2) are an error: git cannot have both", () => {
    const problems = planProblems(`version: 1
workspaces:
  branch: "conductor/{{matrix.area}}"
tasks:
  - id: a
    prompt: x
    matrix:
      area: [api, api/v2]
`);
    expect(problems).toEqual([
      {
        keyPath: ["workspaces", "branch"],
        at: "value",
        message:
          'gives workspace "a-area-api-v2" the branch "conductor/api/v2" below the branch "conductor/api" of "a-area-api", which git cannot have both of',
      },
    ]);
  });

  it("that nest with the branch a winner takes are an error too", () => {
    const problems = planProblems(
      `version: 1
tasks:
  - id: x
    prompt: x
    attempts: 2
  - id: y
    prompt: x
    branch: conductor/x/old
`,
      { facts: { ...FACTS, starts: { "branch:conductor/x/old": { commit: "a".repeat(40) } } } },
    );
    expect(problems).toEqual([
      {
        keyPath: ["workspaces", "branch"],
        at: "value",
        message:
          'gives workspace "y" the branch "conductor/x/old" below the branch "conductor/x" of the winner of "x", which git cannot have both of',
      },
    ]);
  });

  it.each([
    ["conductor/{{task}}..x", "contains '..'"],
    ["a b/{{task}}", 'contains " "'],
    ["conductor/{{task}}.lock", "ending with '.lock'"],
    ["conductor/{{task}}/", "starts or ends with '/'"],
    ["-{{task}}", "starts with '-'"],
    ["x/.{{task}}", "starting with '.'"],
    ["x~{{task}}", 'contains "~"'],
    ["x@{{{task}}}", "contains '@{'"],
    ["HEAD", "is 'HEAD'"],
  ])("refuses the template %s, which gives an invalid ref", (template, reason) => {
    const problems = planProblems(
      `version: 1\nworkspaces:\n  branch: "${template}"\ntasks:\n  - id: fix\n    prompt: x\n`,
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]?.keyPath).toEqual(["workspaces", "branch"]);
    expect(problems[0]?.message).toContain(reason);
  });

  it("reports one problem per distinct message for a template shared by many tasks", () => {
    const tasks = Array.from({ length: 5 }, (_, i) => `  - id: t${i}\n    prompt: x\n`).join("");
    const problems = planProblems(
      `version: 1\nworkspaces:\n  branch: "conductor/{{task}}.lock"\ntasks:\n${tasks}`,
    );
    expect(problems).toHaveLength(5);
    expect(new Set(problems.map((p) => p.message)).size).toBe(5);
  });
});

describe("branchNameProblem agrees with git check-ref-format --branch", () => {
  const samples = [
    "conductor/add-auth",
    "conductor/add-auth-2",
    "conductor/fix-model-gpt-5.1-codex",
    "a/b/c",
    "über/straße",
    "x{y}",
    "HEAD",
    "ref/HEAD",
    "a..b",
    "a b",
    "a.lock",
    "a/.hidden",
    "a/",
    "/a",
    "a//b",
    "a.",
    "-a",
    "a~1",
    "a^",
    "a:b",
    "a?",
    "a*",
    "a[b",
    "a\\b",
    "a@{b",
    "a\tb",
    "a\u007fb",
  ];

  it.each(samples)("%j", (name) => {
    let gitAccepts = true;
    try {
      execFileSync("git", ["check-ref-format", "--branch", name], { stdio: "pipe" });
    } catch {
      gitAccepts = false;
    }
    expect(branchNameProblem(name) === undefined).toBe(gitAccepts);
  });
});
