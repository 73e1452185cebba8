// Merge order of a workspace's settings: defaults < task overrides < matrix values.
import { describe, expect, it } from "vitest";
import {
  DEFAULT_AGENT_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_SANDBOX,
  DEFAULT_SCRIPT_TIMEOUT_MS,
} from "../../src/schema/config.js";
import { planOf, planProblems, workspace } from "../helpers/planning.js";

const CONFIG = `version: 1
agent:
  model: gpt-5.1-codex
  sandbox: workspace-write
  args: [--top]
  config:
    model_reasoning_effort: medium
    hide_agent_reasoning: true
scripts:
  setup: npm ci
  check: npm test
  run: npm run dev
  archive: rm -rf node_modules/.cache
  timeout: 20m
tasks:
  - id: defaults
    prompt: x
  - id: overrides
    prompt: x
    agent:
      model: gpt-5.1-codex-mini
      sandbox: read-only
      args: [--task]
      config:
        model_reasoning_effort: high
    scripts:
      setup: null
      check: npx markdownlint docs/
  - id: matrix
    prompt: x
    agent:
      model: gpt-5.1-codex-mini
      sandbox: read-only
    matrix:
      model: [o4-mini, o3]
      sandbox: [danger-full-access]
`;

describe("merging settings", () => {
  const plan = planOf(CONFIG);

  it("gives a task without overrides the top-level agent and scripts", () => {
    const { agent, scripts, scriptTimeoutMs } = workspace(plan, "defaults");
    expect(agent).toEqual({
      kind: "codex",
      model: "gpt-5.1-codex",
      sandbox: "workspace-write",
      args: ["--top"],
      config: { model_reasoning_effort: "medium", hide_agent_reasoning: true },
      command: undefined,
      timeoutMs: DEFAULT_AGENT_TIMEOUT_MS,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      idleTimeoutMs: undefined,
    });
    expect(scripts).toEqual({
      setup: "npm ci",
      check: "npm test",
      run: "npm run dev",
      archive: "rm -rf node_modules/.cache",
    });
    expect(scriptTimeoutMs).toBe(20 * 60_000);
  });

  it("lets task overrides win over the defaults, merging codex config key by key", () => {
    const { agent } = workspace(plan, "overrides");
    expect(agent.model).toBe("gpt-5.1-codex-mini");
    expect(agent.sandbox).toBe("read-only");
    expect(agent.args).toEqual(["--task"]);
    expect(agent.config).toEqual({ model_reasoning_effort: "high", hide_agent_reasoning: true });
  });

  it("disables a script with null and replaces one with a string", () => {
    expect(workspace(plan, "overrides").scripts).toEqual({
      setup: undefined,
      check: "npx markdownlint docs/",
      run: "npm run dev",
      archive: "rm -rf node_modules/.cache",
    });
  });

  it("lets matrix values for model and sandbox win over task overrides", () => {
    const o4 = workspace(plan, "matrix-model-o4-mini");
    const o3 = workspace(plan, "matrix-model-o3");
    expect([o4.agent.model, o3.agent.model]).toEqual(["o4-mini", "o3"]);
    expect([o4.agent.sandbox, o3.agent.sandbox]).toEqual([
      "danger-full-access",
      "danger-full-access",
    ]);
  });

  it("applies the built-in defaults when nothing is set", () => {
    const bare = planOf("version: 1\ntasks:\n  - id: a\n    prompt: x\n");
    const { agent, scripts, scriptTimeoutMs } = workspace(bare, "a");
    expect(agent.kind).toBe("codex");
    expect(agent.model).toBeUndefined();
    expect(agent.sandbox).toBe(DEFAULT_SANDBOX);
    expect(scripts).toEqual({
      setup: undefined,
      check: undefined,
      run: undefined,
      archive: undefined,
    });
    expect(scriptTimeoutMs).toBe(DEFAULT_SCRIPT_TIMEOUT_MS);
    expect(bare.portsPerWorkspace).toBe(10);
    expect(bare.retries).toBe(0);
    expect(bare.failFast).toBe(false);
  });

  it("refuses a matrix sandbox value that is not a sandbox mode, at its key path", () => {
    const problems = planProblems(`version: 1
tasks:
  - id: a
    prompt: x
    matrix:
      sandbox: [read-only, yolo]
`);
    expect(problems).toEqual([
      {
        keyPath: ["tasks", 0, "matrix", "sandbox"],
        at: "value",
        message: '"yolo" is not a sandbox mode; use read-only, workspace-write, danger-full-access',
      },
    ]);
  });
});
