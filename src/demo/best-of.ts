import { preferMostTests, withJudge } from "../model-server/judge.js";
import { markerScript, type Script, type ScriptedReply } from "../model-server/server.js";
import {
  averageTestFile,
  EMPTY_LIST_TEST,
  FIXED_MATH,
  NUMBERS_TEST,
  writeFileStep,
} from "./average-fix.js";

/** A task of the best-of demo as written in its conductor.yaml. */
export interface BestOfDemoTask {
  id: string;
  prompt: string;
  attempts?: number;
  dependsOn?: string[];
}

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
    writeFileStep("test/average.test.js", averageTestFile(EMPTY_LIST_TEST)),
    { kind: "message", text: "average([]) returns 0 now; one test covers it." },
  ],
  "[demo:fix-average-2]": [
    { kind: "exec", cmd: "cat src/math.js" },
    writeFileStep("src/math.js", FIXED_MATH),
    writeFileStep("test/average.test.js", averageTestFile(EMPTY_LIST_TEST, NUMBERS_TEST)),
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
