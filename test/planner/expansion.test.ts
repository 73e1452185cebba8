// Expansion: every task × attempt × matrix cell becomes one workspace with a stable, readable name,
// a worktree path, a filled prompt, an environment and a distinct port block.
import { describe, expect, it } from "vitest";
import { FACTS, planOf, workspace } from "../helpers/planning.js";

const names = (yaml: string) => planOf(yaml).workspaces.map((w) => w.name);

describe("expansion", () => {
  it("names a task's only workspace after the task", () => {
    expect(names("version: 1\ntasks:\n  - id: add-auth\n    prompt: Add login.\n")).toEqual([
      "add-auth",
    ]);
  });

  it("names attempts add-auth, add-auth-2, add-auth-3", () => {
    const yaml = "version: 1\ntasks:\n  - id: add-auth\n    prompt: Add login.\n    attempts: 3\n";
    const plan = planOf(yaml);
    expect(plan.workspaces.map((w) => [w.name, w.attempt])).toEqual([
      ["add-auth", 1],
      ["add-auth-2", 2],
      ["add-auth-3", 3],
    ]);
  });

  it("names matrix cells after key and value: add-auth-model-o4-mini", () => {
    const yaml = `version: 1
tasks:
  - id: add-auth
    prompt: Add login.
    matrix:
      model: [o4-mini, gpt-5.1-codex]
`;
    const plan = planOf(yaml);
    expect(plan.workspaces.map((w) => w.name)).toEqual([
      "add-auth-model-o4-mini",
      "add-auth-model-gpt-5.1-codex",
    ]);
    expect(workspace(plan, "add-auth-model-o4-mini").matrix).toEqual({ model: "o4-mini" });
  });

  it("expands every combination, first key slowest, then attempts", () => {
    const yaml = `version: 1
tasks:
  - id: fix
    prompt: Fix it.
    attempts: 2
    matrix:
      model: [a, b]
      effort: [low, high]
`;
    expect(names(yaml)).toEqual([
      "fix-model-a-effort-low",
      "fix-model-a-effort-low-2",
      "fix-model-a-effort-high",
      "fix-model-a-effort-high-2",
      "fix-model-b-effort-low",
      "fix-model-b-effort-low-2",
      "fix-model-b-effort-high",
      "fix-model-b-effort-high-2",
    ]);
  });

  it("leaves single-value matrix keys out of names but still sets them", () => {
    const yaml = `version: 1
tasks:
  - id: fix
    prompt: Fix it with {{matrix.model}} at {{matrix.effort}}.
    matrix:
      model: [o4-mini]
      effort: [low, high]
`;
    const plan = planOf(yaml);
    expect(plan.workspaces.map((w) => w.name)).toEqual(["fix-effort-low", "fix-effort-high"]);
    expect(workspace(plan, "fix-effort-high").prompt).toBe("Fix it with o4-mini at high.");
  });

  it("makes matrix values readable in names: lowercase, punctuation collapsed", () => {
    const yaml = `version: 1
tasks:
  - id: fix
    prompt: Fix it.
    matrix:
      model: ["GPT 5 (Mini)", o4-mini]
      fast: [true, false]
`;
    expect(names(yaml)).toEqual([
      "fix-model-gpt-5-mini-fast-true",
      "fix-model-gpt-5-mini-fast-false",
      "fix-model-o4-mini-fast-true",
      "fix-model-o4-mini-fast-false",
    ]);
  });

  it("fills the prompt's placeholders for every workspace", () => {
    const yaml = `version: 1
tasks:
  - id: add-auth
    prompt: "Task {{task}}, attempt {{ attempt }}, model {{matrix.model}}."
    attempts: 2
    matrix:
      model: [o4-mini]
`;
    const plan = planOf(yaml);
    expect(plan.workspaces.map((w) => w.prompt)).toEqual([
      "Task add-auth, attempt 1, model o4-mini.",
      "Task add-auth, attempt 2, model o4-mini.",
    ]);
  });

  it("takes the prompt from the prompt file's content", () => {
    const yaml = `version: 1
tasks:
  - id: add-auth
    prompt_file: prompts/add-auth.md
`;
    const plan = planOf(yaml, {
      promptFiles: { "prompts/add-auth.md": "Add login to {{task}}.\n" },
    });
    expect(workspace(plan, "add-auth").prompt).toBe("Add login to add-auth.\n");
    expect(workspace(plan, "add-auth").promptFile).toBe("prompts/add-auth.md");
  });

  it("places worktrees under ~/.conductor/workspaces/<repo-name>-<path hash> by default", () => {
    const plan = planOf("version: 1\ntasks:\n  - id: add-auth\n    prompt: Add login.\n");
    // 71a6fe89: the first 8 hex digits of sha256("/src/webapp"), the repository's path.
    expect(plan.workspacesDir).toBe("/home/dev/.conductor/workspaces/webapp-71a6fe89");
    expect(workspace(plan, "add-auth").path).toBe(
      "/home/dev/.conductor/workspaces/webapp-71a6fe89/add-auth",
    );
  });

  it("resolves workspaces.dir with ~ against home and relative paths against the repository", () => {
    const withDir = (dir: string) =>
      planOf(`version: 1\nworkspaces:\n  dir: ${dir}\ntasks:\n  - id: a\n    prompt: x\n`)
        .workspacesDir;
    expect(withDir("~/trees")).toBe("/home/dev/trees");
    expect(withDir("../trees")).toBe("/src/trees");
    expect(withDir("/var/trees")).toBe("/var/trees");
  });

  it("gives every workspace the CONDUCTOR_* environment except the port, plus env", () => {
    const yaml = `version: 1
env:
  NODE_ENV: development
  LABEL: "{{task}}-{{attempt}}"
tasks:
  - id: add-auth
    prompt: Add login.
    attempts: 2
    env:
      NODE_ENV: test
      RETRIES: 3
`;
    const plan = planOf(yaml);
    expect(workspace(plan, "add-auth-2").env).toEqual({
      NODE_ENV: "test",
      LABEL: "add-auth-2",
      RETRIES: "3",
      CONDUCTOR_WORKSPACE_NAME: "add-auth-2",
      CONDUCTOR_WORKSPACE_PATH: "/home/dev/.conductor/workspaces/webapp-71a6fe89/add-auth-2",
      CONDUCTOR_ROOT_PATH: FACTS.root,
      CONDUCTOR_DEFAULT_BRANCH: "main",
      CONDUCTOR_TASK_ID: "add-auth",
      CONDUCTOR_ATTEMPT: "2",
    });
    expect(workspace(plan, "add-auth").env).not.toHaveProperty("CONDUCTOR_PORT");
  });

  it("gives every workspace of the plan its own port block", () => {
    const yaml = `version: 1
workspaces:
  ports: 20
tasks:
  - id: a
    prompt: x
    attempts: 3
  - id: b
    prompt: x
    matrix:
      model: [m1, m2, m3]
  - id: c
    prompt: x
    depends_on: [d]
  - id: d
    prompt: x
`;
    const plan = planOf(yaml);
    const blocks = plan.workspaces.map((w) => w.portBlock);
    expect(plan.workspaces).toHaveLength(8);
    expect(new Set(blocks).size).toBe(8);
    expect(plan.portsPerWorkspace).toBe(20);
  });

  it("keeps port blocks of the whole plan when only some tasks are planned", () => {
    const yaml = `version: 1
tasks:
  - id: a
    prompt: x
    attempts: 2
  - id: b
    prompt: x
`;
    const all = planOf(yaml);
    const onlyB = planOf(yaml, { taskPatterns: ["b"] });
    expect(workspace(onlyB, "b").portBlock).toBe(workspace(all, "b").portBlock);
  });

  it("uses the task's timeout for the agent, else the agent's", () => {
    const yaml = `version: 1
agent:
  timeout: 30m
tasks:
  - id: quick
    prompt: x
    timeout: 90s
  - id: slow
    prompt: x
  - id: overridden
    prompt: x
    agent:
      timeout: 2h
`;
    const plan = planOf(yaml);
    expect(workspace(plan, "quick").agent.timeoutMs).toBe(90_000);
    expect(workspace(plan, "slow").agent.timeoutMs).toBe(30 * 60_000);
    expect(workspace(plan, "overridden").agent.timeoutMs).toBe(2 * 3_600_000);
  });

  it("plans a config with no base from the repository's default branch", () => {
    const plan = planOf("version: 1\ntasks:\n  - id: a\n    prompt: x\n");
    expect(plan.base).toEqual({ ref: "main", commit: FACTS.baseCommit });
    expect(workspace(plan, "a").startPoint).toEqual({
      kind: "base",
      ref: "main",
      commit: FACTS.baseCommit,
    });
  });
});
