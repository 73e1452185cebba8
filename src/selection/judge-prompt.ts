/**
 * What the judge of a best-of-N task is given and must answer. Pure text and data: the executor
 * runs the judge (see `src/executor/selection/judge.ts`).
 */

/** The first line of every judge prompt; the scripted model server recognizes judges by it. */
export const JUDGE_HEADING = "# Best-of-N judge";

/** Longest diff of one candidate put in the prompt; the rest is cut, saying so. */
export const MAX_DIFF_CHARS = 40_000;

/** One candidate as the judge sees it. */
export interface JudgeCandidate {
  name: string;
  /** `passed check`, `succeeded (no check)`. */
  check: string;
  /** `git diff` of its branch against its start. */
  diff: string;
  /** The agent's last message. */
  finalMessage?: string | undefined;
}

/** The JSON Schema of the answer (`codex exec --output-schema`): strict, every field required. */
export const JUDGE_SCHEMA = {
  type: "object",
  properties: {
    winner: { type: "string", description: "Name of the best candidate workspace." },
    ranking: {
      type: "array",
      items: { type: "string" },
      description: "Every candidate's name, best first.",
    },
    reasons: { type: "string", description: "Why the winner is best, in one or two sentences." },
  },
  required: ["winner", "ranking", "reasons"],
  additionalProperties: false,
} as const;

/** The judge's prompt: the task, then each candidate's check result and diff. */
export function judgePrompt(
  taskId: string,
  taskPrompt: string,
  candidates: readonly JudgeCandidate[],
): string {
  const names = candidates.map((candidate) => candidate.name).join(", ");
  const sections = candidates.map((candidate) => {
    const diff =
      candidate.diff.length > MAX_DIFF_CHARS
        ? `${candidate.diff.slice(0, MAX_DIFF_CHARS)}\n… (diff cut at ${MAX_DIFF_CHARS} characters)`
        : candidate.diff;
    const message =
      candidate.finalMessage === undefined ? "" : `\nAgent's summary: ${candidate.finalMessage}\n`;
    return `## Candidate ${candidate.name}\n\nCheck: ${candidate.check}\n${message}\n\`\`\`diff\n${diff}\n\`\`\`\n`;
  });
  return [
    JUDGE_HEADING,
    "",
    `Several agents worked on the same task "${taskId}" independently, each on its own branch. ` +
      "Read the task and every candidate's diff, decide which one does the task best (correct, " +
      "complete, no unrelated changes, simplest), and rank them all. Do not change any file.",
    "",
    'Answer with JSON only: {"winner": "<name>", "ranking": ["<best>", …], "reasons": "<why>"}, ' +
      `using these names: ${names}.`,
    "",
    "## Task",
    "",
    taskPrompt.trim(),
    "",
    ...sections,
  ].join("\n");
}
