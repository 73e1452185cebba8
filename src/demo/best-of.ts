import { preferMostTests, withJudge } from "../model-server/judge.js";
import { markerScript, type Script, type ScriptedReply } from "../model-server/server.js";

/** A task of the best-of demo as written in its conductor.yaml. */
export interface BestOfDemoTask {
  id: string;
  prompt: string;
  attempts?: number;
  dependsOn?: string[];
}

/** Writes a file through the shell the way an agent would (a quoted heredoc keeps it literal). */
function writeFileStep(file: string, lines: readonly string[]): ScriptedReply {
  return {
    kind: "exec",
    cmd: `mkdir -p "$(dirname ${file})" && cat > ${file} <<'CONDUCTOR_DEMO_EOF'\n${lines.join("\n")}\nCONDUCTOR_DEMO_EOF`,
  };
}

const FIXED_MATH = [
  "export function sum(values) {",
  "  return values.reduce((total, value) => total + value, 0);",
  "}",
  "",
  "export function average(values) {",
  "  return values.length === 0 ? 0 : sum(values) / values.length;",
  "}",
];

const TEST_HEAD = [
  'import assert from "node:assert/strict";',
  'import { test } from "node:test";',
  'import { average } from "../src/math.js";',
  "",
];

/**
 * Two attempts at one fix (both pass `node --test`: the first adds one test, the second two),
 * then a task that documents the fix and starts from whichever attempt wins.
 */
export const BEST_OF_TASKS: readonly BestOfDemoTask[] = [
  {
    id: "fix-average",
    attempts: 2,
    prompt:
      "average([]) returns NaN. Make it return 0 for an empty list and test it in test/average.test.js.\n" +
      "Only change src/math.js and the new test. Verify with `node --test`. [demo:fix-average-{{attempt}}]",
  },
  {
    id: "document-average",
    dependsOn: ["fix-average"],
    prompt:
      "Document average() in README.md, saying how many tests cover it. Only edit README.md. [demo:document-average]",
  },
];

const ROUTES: Record<string, ScriptedReply[]> = {
  "[demo:fix-average-1]": [
    writeFileStep("src/math.js", FIXED_MATH),
    writeFileStep("test/average.test.js", [
      ...TEST_HEAD,
      'test("average of an empty list is 0", () => {',
      "  assert.equal(average([]), 0);",
      "});",
    ]),
    { kind: "message", text: "average([]) returns 0 now; one test covers it." },
  ],
  "[demo:fix-average-2]": [
    { kind: "exec", cmd: "cat src/math.js" },
    writeFileStep("src/math.js", FIXED_MATH),
    writeFileStep("test/average.test.js", [
      ...TEST_HEAD,
      'test("average of an empty list is 0", () => {',
      "  assert.equal(average([]), 0);",
      "});",
      "",
      'test("average of numbers", () => {',
      "  assert.equal(average([2, 4]), 3);",
      "});",
    ]),
    { kind: "message", text: "average([]) returns 0 now; tests cover empty and non-empty lists." },
  ],
  "[demo:document-average]": [
    {
      kind: "exec",
      cmd: 'printf \'\\n## average(values)\\n\\nThe mean of a list; 0 for an empty list. Covered by %s tests in test/average.test.js.\\n\' "$(grep -c "^test(" test/average.test.js)" >> README.md',
    },
    { kind: "message", text: "Documented average() in README.md." },
  ],
};

/** The scripted model of the best-of demo: each attempt its own steps, the judge prefers more tests. */
export function bestOfScript(): Script {
  return withJudge(markerScript(ROUTES), preferMostTests);
}
