import {
  type ModelRequest,
  markerScript,
  reviewReply,
  SCRIPTED_USAGE,
  type Script,
  type ScriptedReply,
} from "../model-server/server.js";
import {
  averageTestFile,
  EMPTY_LIST_TEST,
  FIXED_MATH,
  NUMBERS_TEST,
  writeFileStep,
} from "./average-fix.js";

/** One demo task: its prompt and what the scripted model does for it. */
export interface DemoTask {
  id: string;
  prompt: string;
  dependsOn?: string[];
  steps: ScriptedReply[];
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
      writeFileStep("src/math.js", FIXED_MATH),
      writeFileStep("test/average.test.js", averageTestFile(EMPTY_LIST_TEST, NUMBERS_TEST)),
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

/**
 * What the scripted reviewer says of each demo workspace the first time (`conductor review`),
 * by workspace name: add-greeting gets a P2 finding, the others pass.
 */
export const DEMO_REVIEWS: Readonly<Record<string, readonly ScriptedReply[]>> = {
  "fix-average": [
    { kind: "exec", cmd: "git diff --stat HEAD~1" },
    reviewReply("patch is correct", "average([]) now returns 0 and the new test covers it."),
  ],
  "add-greeting": [
    reviewReply("patch is correct", "greet() works for the tested name; one edge case is open.", [
      {
        priority: 2,
        title: "greet() greets nobody for an empty name",
        body: '`greet("")` returns "Hello, !". Callers that pass user input get a broken greeting; fall back to "Hello, world!" when the name is empty, and test it.',
        file: "src/greet.js",
        start: 1,
        end: 3,
        confidence: 0.7,
      },
    ]),
  ],
  "document-greeting": [reviewReply("patch is correct", "The README documents greet() as it is.")],
};

/** How add-greeting's agent answers `conductor continue add-greeting --fix-review`. */
const DEMO_FIX: readonly ScriptedReply[] = [
  writeFileStep("src/greet.js", [
    "export function greet(name) {",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text the scripted agent writes
    '  return `Hello, ${name || "world"}!`;',
    "}",
  ]),
  {
    kind: "exec",
    cmd: `cat >> test/greet.test.js <<'CONDUCTOR_DEMO_EOF'

test("greet falls back to world for an empty name", () => {
  assert.equal(greet(""), "Hello, world!");
});
CONDUCTOR_DEMO_EOF`,
  },
  { kind: "message", text: 'greet("") now says "Hello, world!"; added a test for it.' },
];

/**
 * The scripted model's behaviour for the demo: every task follows its own steps, reviews answer
 * as {@link DEMO_REVIEWS} says (a workspace reviewed again after its fix has no findings), and a
 * follow-up that hands review findings back to add-greeting fixes them.
 */
export function demoScript(): Script {
  const reviewed = new Map<string, number>();
  const tasks = markerScript(
    Object.fromEntries(DEMO_TASKS.map((task) => [`[demo:${task.id}]`, task.steps])),
    DEMO_REVIEWS,
  );
  const folder = (request: ModelRequest) => request.cwd?.split("/").filter(Boolean).at(-1) ?? "";
  return (request) => {
    const name = folder(request);
    if (request.review) {
      if (request.step === 0) reviewed.set(name, (reviewed.get(name) ?? 0) + 1);
      if ((reviewed.get(name) ?? 0) > 1) {
        return reviewReply(
          "patch is correct",
          "The earlier finding is fixed; nothing else to flag.",
        );
      }
    } else if (request.prompt.startsWith("A reviewer looked at your changes")) {
      return DEMO_FIX[request.step] ?? { kind: "message", text: "Done." };
    }
    return tasks(request);
  };
}

/**
 * Tokens the three demo tasks need: every scripted reply is one model request reporting
 * SCRIPTED_USAGE (input + output). `demo --budget` gives the run half of it.
 */
export function demoTokensNeeded(): number {
  const perRequest = SCRIPTED_USAGE.input_tokens + SCRIPTED_USAGE.output_tokens;
  return DEMO_TASKS.reduce((sum, task) => sum + task.steps.length * perRequest, 0);
}
