import type { ScriptedReply } from "../model-server/server.js";

/** What the scripted agents of the demos write: files through the shell, and the average() fix. */

/** Writes a file through the shell the way an agent would (a quoted heredoc keeps it literal). */
export function writeFileStep(file: string, lines: readonly string[]): ScriptedReply {
  return {
    kind: "exec",
    cmd: `mkdir -p "$(dirname ${file})" && cat > ${file} <<'CONDUCTOR_DEMO_EOF'\n${lines.join("\n")}\nCONDUCTOR_DEMO_EOF`,
  };
}

/** src/math.js with average([]) returning 0 instead of NaN. */
export const FIXED_MATH: readonly string[] = [
  "export function sum(values) {",
  "  return values.reduce((total, value) => total + value, 0);",
  "}",
  "",
  "export function average(values) {",
  "  return values.length === 0 ? 0 : sum(values) / values.length;",
  "}",
];

/** The test of the fix: average of an empty list. */
export const EMPTY_LIST_TEST: readonly string[] = [
  'test("average of an empty list is 0", () => {',
  "  assert.equal(average([]), 0);",
  "});",
];

/** A second test: average of numbers. */
export const NUMBERS_TEST: readonly string[] = [
  'test("average of numbers", () => {',
  "  assert.equal(average([2, 4]), 3);",
  "});",
];

/** test/average.test.js holding these tests, a blank line between two. */
export function averageTestFile(...tests: (readonly string[])[]): string[] {
  return [
    'import assert from "node:assert/strict";',
    'import { test } from "node:test";',
    'import { average } from "../src/math.js";',
    "",
    ...tests.flatMap((test, index) => (index === 0 ? test : ["", ...test])),
  ];
}
