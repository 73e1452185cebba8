// The plan hash covers what changes what a run does, and nothing else: it is stable under YAML key
// order and comments, and changes with prompts, prompt files, settings and the base commit.
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/planner/hash.js";
import { FACTS, planOf } from "../helpers/planning.js";

const CONFIG = `version: 1
base: main
concurrency: 4
env:
  NODE_ENV: development
  CI: "true"
workspaces:
  branch: conductor/{{task}}
  copy: [.env.local]
agent:
  model: gpt-5.1-codex
  config:
    model_reasoning_effort: medium
    hide_agent_reasoning: true
scripts:
  setup: npm ci
  check: npm test
tasks:
  - id: add-auth
    prompt_file: prompts/add-auth.md
    env:
      A: "1"
      B: "2"
  - id: docs
    prompt: Document it.
    depends_on: [add-auth]
    agent:
      model: gpt-5.1-codex-mini
`;

/** The same configuration with every map's keys reordered and comments added everywhere. */
const REORDERED = `# yaml-language-server: $schema=./schema/conductor.schema.json
# The same tasks, written differently.
tasks:
  # The docs task comes second, as before; only keys move.
  - agent:
      model: gpt-5.1-codex-mini # cheaper
    depends_on: [add-auth]
    prompt: Document it.
    id: docs
scripts: { check: npm test, setup: npm ci }
agent:
  config:
    hide_agent_reasoning: true
    model_reasoning_effort: medium
  model: gpt-5.1-codex
workspaces:
  copy:
    - .env.local # secrets
  branch: "conductor/{{task}}"
env: { CI: "true", NODE_ENV: development }
concurrency: 4
base: main
version: 1
`.replace(
  "tasks:\n",
  `tasks:
  - env: { B: "2", A: "1" }
    prompt_file: prompts/add-auth.md
    id: add-auth
`,
);

const PROMPTS = { "prompts/add-auth.md": "Add login with sessions.\n" };
const hashOf = (yaml: string, promptFiles: Record<string, string> = PROMPTS) =>
  planOf(yaml, { promptFiles }).hash;

describe("the plan hash", () => {
  it("is a SHA-256 hex digest", () => {
    expect(hashOf(CONFIG)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("is the same for reordered YAML keys and added comments", () => {
    expect(hashOf(REORDERED)).toBe(hashOf(CONFIG));
  });

  it("comes with the same plan for reordered keys, up to key order", () => {
    const a = planOf(CONFIG, { promptFiles: PROMPTS });
    const b = planOf(REORDERED, { promptFiles: PROMPTS });
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it("is the same on another machine: paths of the checkout and home are not hashed", () => {
    const elsewhere = planOf(CONFIG, {
      promptFiles: PROMPTS,
      facts: { ...FACTS, root: "/ci/build/webapp", homeDir: "/home/runner" },
    });
    expect(elsewhere.hash).toBe(hashOf(CONFIG));
  });

  it("changes when a prompt file's content changes", () => {
    expect(hashOf(CONFIG, { "prompts/add-auth.md": "Add login with tokens.\n" })).not.toBe(
      hashOf(CONFIG),
    );
  });

  it("changes when an inline prompt changes", () => {
    expect(hashOf(CONFIG.replace("Document it.", "Document it well."))).not.toBe(hashOf(CONFIG));
  });

  it("changes when the base commit changes", () => {
    const moved = planOf(CONFIG, {
      promptFiles: PROMPTS,
      facts: { ...FACTS, baseCommit: "fedcba9876543210fedcba9876543210fedcba98" },
    });
    expect(moved.hash).not.toBe(hashOf(CONFIG));
  });

  it.each([
    ["a model", "model: gpt-5.1-codex\n", "model: gpt-5.1-codex-max\n"],
    ["a script", "check: npm test", "check: npm run test:ci"],
    ["an env value", "NODE_ENV: development", "NODE_ENV: production"],
    ["the branch template", "branch: conductor/{{task}}", "branch: agents/{{task}}"],
    ["retries", "concurrency: 4\n", "concurrency: 4\nretries: 2\n"],
  ])("changes when %s changes", (_what, from, to) => {
    expect(CONFIG).toContain(from);
    expect(hashOf(CONFIG.replace(from, to))).not.toBe(hashOf(CONFIG));
  });

  it("does not change with concurrency, which only changes how fast a run goes", () => {
    expect(hashOf(CONFIG.replace("concurrency: 4", "concurrency: 16"))).toBe(hashOf(CONFIG));
    expect(hashOf(CONFIG.replace("concurrency: 4\n", ""))).toBe(hashOf(CONFIG));
  });

  it("does not change with the run id", () => {
    expect(planOf(CONFIG, { promptFiles: PROMPTS, runId: "run-1" }).hash).toBe(hashOf(CONFIG));
  });

  it("changes when matrix keys are reordered, because that renames the workspaces", () => {
    const matrix = (keys: string) =>
      `version: 1\ntasks:\n  - id: fix\n    prompt: x\n    matrix:\n${keys}`;
    const modelFirst = matrix("      model: [a, b]\n      effort: [low, high]\n");
    const effortFirst = matrix("      effort: [low, high]\n      model: [a, b]\n");
    expect(planOf(modelFirst).workspaces[0]?.name).toBe("fix-model-a-effort-low");
    expect(planOf(effortFirst).workspaces[0]?.name).toBe("fix-effort-low-model-a");
    expect(planOf(effortFirst).hash).not.toBe(planOf(modelFirst).hash);
  });
});
