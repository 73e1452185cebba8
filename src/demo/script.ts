import { markerScript, type Script, type ScriptedReply } from "../model-server/server.js";

/** One demo task: its prompt and what the scripted model does for it. */
export interface DemoTask {
  id: string;
  prompt: string;
  dependsOn?: string[];
  steps: ScriptedReply[];
}

/** Writes a file through the shell the way an agent would (a quoted heredoc keeps it literal). */
function writeFileStep(file: string, lines: readonly string[]): ScriptedReply {
  return {
    kind: "exec",
    cmd: `mkdir -p "$(dirname ${file})" && cat > ${file} <<'CONDUCTOR_DEMO_EOF'\n${lines.join("\n")}\nCONDUCTOR_DEMO_EOF`,
  };
}

/** The three demo tasks; each prompt carries a marker that routes it to its own scripted steps. */
export const DEMO_TASKS: readonly DemoTask[] = [
  {
    id: "fix-average",
    prompt:
      "average([]) returns NaN. Make it return 0 for an empty list and add a test in test/average.test.js.\n" +
      "Only change src/math.js and the new test. Verify with `node --test`. [demo:fix-average]",
    steps: [
      { kind: "exec", cmd: "cat src/math.js" },
      writeFileStep("src/math.js", [
        "export function sum(values) {",
        "  return values.reduce((total, value) => total + value, 0);",
        "}",
        "",
        "export function average(values) {",
        "  return values.length === 0 ? 0 : sum(values) / values.length;",
        "}",
      ]),
      writeFileStep("test/average.test.js", [
        'import assert from "node:assert/strict";',
        'import { test } from "node:test";',
        'import { average } from "../src/math.js";',
        "",
        'test("average of an empty list is 0", () => {',
        "  assert.equal(average([]), 0);",
        "});",
        "",
        'test("average of numbers", () => {',
        "  assert.equal(average([2, 4]), 3);",
        "});",
      ]),
      {
        kind: "message",
        text: "average([]) now returns 0; added test/average.test.js covering empty and non-empty lists.",
      },
    ],
  },
  {
    id: "add-greeting",
    prompt:
      'Add src/greet.js exporting greet(name) that returns "Hello, <name>!" and test it in test/greet.test.js.\n' +
      "Do not touch other files. Verify with `node --test`. [demo:add-greeting]",
    steps: [
      writeFileStep("src/greet.js", [
        "export function greet(name) {",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: source text the scripted agent writes
        "  return `Hello, ${name}!`;",
        "}",
      ]),
      writeFileStep("test/greet.test.js", [
        'import assert from "node:assert/strict";',
        'import { test } from "node:test";',
        'import { greet } from "../src/greet.js";',
        "",
        'test("greet says hello", () => {',
        '  assert.equal(greet("Ada"), "Hello, Ada!");',
        "});",
      ]),
      { kind: "exec", cmd: "ls src test" },
      {
        kind: "message",
        text: "Added greet(name) in src/greet.js with a test in test/greet.test.js.",
      },
    ],
  },
  {
    id: "document-greeting",
    dependsOn: ["add-greeting"],
    prompt:
      "Document greet() from src/greet.js in README.md with a short usage example. Only edit README.md. [demo:document-greeting]",
    steps: [
      { kind: "exec", cmd: "cat src/greet.js" },
      {
        kind: "exec",
        cmd: 'cat >> README.md <<\'CONDUCTOR_DEMO_EOF\'\n\n## greet(name)\n\n```js\nimport { greet } from "./src/greet.js";\ngreet("Ada"); // "Hello, Ada!"\n```\nCONDUCTOR_DEMO_EOF',
      },
      { kind: "message", text: "Documented greet(name) in README.md with a usage example." },
    ],
  },
];

/** The scripted model's behaviour for the demo: every task follows its own steps. */
export function demoScript(): Script {
  return markerScript(
    Object.fromEntries(DEMO_TASKS.map((task) => [`[demo:${task.id}]`, task.steps])),
  );
}
