// Config scale: `conductor validate` and `conductor plan --json` of a generated 1,000-task config
// with matrices and dependencies. Target: under a second each; also reported as a ratio to the
// start-up of Node itself (`node -e 0`), the floor of any command.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import {
  benchEnv,
  createRepo,
  freshHome,
  interleave,
  log,
  median,
  removeDir,
  resultRow,
  tempDir,
  timed,
  timedConductor,
} from "./lib.mjs";

const TASKS = 1000;

/**
 * 1,000 tasks: every 4th has a 2 × 2 matrix (model × size), every 10th depends on the task before
 * it, every 25th (without a matrix) has 2 attempts; prompts use placeholders: 1,780 workspaces.
 */
function largeConfig(workspacesDir) {
  const tasks = [];
  for (let i = 1; i <= TASKS; i++) {
    const task = {
      id: `task-${String(i).padStart(4, "0")}`,
      prompt: `Implement part ${i} of the feature for {{task}}; keep the public API stable, add tests, and update the docs that mention it.`,
    };
    if (i % 4 === 0) {
      task.matrix = { model: ["o4-mini", "gpt-5"], size: ["small", "large"] };
      task.prompt += " Use the {{matrix.size}} variant.";
      task.agent = { model: "{{matrix.model}}" };
    }
    if (i % 10 === 0) task.depends_on = [`task-${String(i - 1).padStart(4, "0")}`];
    if (i % 25 === 0 && i % 4 !== 0) task.attempts = 2;
    if (i % 7 === 0) task.env = { FEATURE_PART: String(i) };
    tasks.push(task);
  }
  return {
    version: 1,
    concurrency: 8,
    env: { NODE_ENV: "test" },
    workspaces: {
      dir: workspacesDir,
      copy: [".env.local"],
      branch: "conductor/{{task}}-{{attempt}}",
    },
    agent: { kind: "codex", model: "o4-mini", timeout: "30m" },
    scripts: { setup: "npm ci", check: "npm test" },
    tasks,
  };
}

export async function run({ runs }) {
  const base = tempDir("config-scale");
  const repo = path.join(base, "repo");
  createRepo(
    repo,
    { "README.md": "# config scale\n", "package.json": "{}\n" },
    { ".env.local": "A=1\n" },
  );
  // Block-style YAML, as people write it (flow style, i.e. JSON, parses more slowly).
  writeFileSync(path.join(repo, "conductor.yaml"), stringify(largeConfig(path.join(base, "ws"))));
  const env = benchEnv(freshHome(base, "home"));
  const options = { cwd: repo, env, outFile: path.join(base, "out.txt") };
  const summary = (await timedConductor(["validate"], options)).output.trim();
  log(`config-scale: ${summary}`);

  const rows = [];
  for (const [id, label, args] of [
    ["config-validate", "validate", ["validate"]],
    ["config-plan-json", "plan --json", ["plan", "--json"]],
  ]) {
    const samples = await interleave(runs, {
      conductor: { measure: async () => (await timedConductor(args, options)).ms },
      baseline: { measure: async () => (await timed(process.execPath, ["-e", "0"], options)).ms },
    });
    rows.push(
      resultRow({
        id,
        benchmark: `Config scale: \`${label}\` of ${TASKS.toLocaleString("en-US")} tasks`,
        unit: "ms",
        conductor: samples.conductor,
        baseline: samples.baseline,
        baselineLabel: "node -e 0",
        target: { on: "conductor", max: 1000, below: true, text: "< 1000 ms" },
        notes: id === "config-validate" ? [`conductor printed: ${summary}`] : [],
        extra: { nodeStartupMs: median(samples.baseline) },
      }),
    );
  }
  removeDir(base);
  return rows;
}
