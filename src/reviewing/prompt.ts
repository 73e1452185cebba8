/**
 * The review request for reviewers that take a prompt (claude, `agent.review_command`): the same
 * task and the same JSON codex's own review asks its model for, so one parser reads them all.
 */
export function reviewPrompt(base: string, instructions: string | undefined): string {
  return [
    "# Review guidelines:",
    "",
    "You are reviewing a proposed code change made by another engineer, in this repository's working tree. Do not change any file: read only.",
    `Review the changes against commit ${base}: run \`git diff ${base}\` to see them (uncommitted changes included).`,
    "Flag only discrete, actionable bugs the change introduced that its author would fix: correctness, security, performance, maintainability. Give each a priority: 0 (blocks release), 1 (urgent), 2 (normal), 3 (nit).",
    ...(instructions === undefined
      ? []
      : ["", "Review guidance of this repository:", "", instructions.trim()]),
    "",
    "Answer with JSON only, in this shape:",
    "",
    "{",
    '  "findings": [',
    "    {",
    '      "title": "[P1] Short imperative title (at most 80 characters)",',
    '      "body": "Why this is a bug, in one paragraph",',
    '      "confidence_score": 0.8,',
    '      "priority": 1,',
    '      "code_location": {',
    '        "absolute_file_path": "/absolute/path/to/file",',
    '        "line_range": { "start": 10, "end": 12 }',
    "      }",
    "    }",
    "  ],",
    '  "overall_correctness": "patch is correct" or "patch is incorrect",',
    '  "overall_explanation": "One to three sentences justifying the verdict",',
    '  "overall_confidence_score": 0.7',
    "}",
  ].join("\n");
}
