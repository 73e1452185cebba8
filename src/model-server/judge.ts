import { JUDGE_HEADING } from "../selection/judge-prompt.js";
import type { ModelRequest, Script, ScriptedReply } from "./server.js";

/** A best-of-N judge's request, as the scripted server reads it. */
export interface JudgeRequest {
  /** Each candidate's name and its section of the prompt (check result and diff). */
  candidates: { name: string; section: string }[];
  /** The JSON Schema codex was given with `--output-schema` (sent as `text.format.schema`). */
  schema: unknown;
}

/** How the scripted judge decides: the answer `{winner, ranking, reasons}`. */
export type JudgeChoice = (candidates: JudgeRequest["candidates"]) => {
  winner: string;
  ranking: string[];
  reasons: string;
};

/** The judge request in `request`, when its prompt is a judge's (it opens with the judge heading). */
export function judgeRequestOf(request: ModelRequest): JudgeRequest | undefined {
  if (!request.prompt.trimStart().startsWith(JUDGE_HEADING)) return undefined;
  const parts = request.prompt.split(/^## Candidate (\S+)\n/m);
  const candidates: JudgeRequest["candidates"] = [];
  for (let index = 1; index + 1 < parts.length; index += 2) {
    candidates.push({ name: parts[index] as string, section: parts[index + 1] as string });
  }
  const text = request.body.text as { format?: { schema?: unknown } } | undefined;
  return { candidates, schema: text?.format?.schema };
}

/** The judge's final message: the JSON answer, as a model held to the schema writes it. */
export function judgeReply(request: JudgeRequest, choose: JudgeChoice): ScriptedReply {
  return { kind: "message", text: JSON.stringify(choose(request.candidates)) };
}

/** `script`, with judge requests answered by `choose` instead. */
export function withJudge(script: Script, choose: JudgeChoice): Script {
  return (request) => {
    const judge = judgeRequestOf(request);
    return judge === undefined ? script(request) : judgeReply(judge, choose);
  };
}

/**
 * A judge that prefers the candidate whose diff adds the most tests (`test(` on added lines),
 * the earlier one on a tie, and says so.
 */
export const preferMostTests: JudgeChoice = (candidates) => {
  const tests = (section: string) =>
    section.split("\n").filter((line) => line.startsWith("+") && line.includes("test(")).length;
  const ranked = [...candidates].sort((a, b) => tests(b.section) - tests(a.section));
  const winner = ranked[0];
  const count = winner === undefined ? 0 : tests(winner.section);
  return {
    winner: winner?.name ?? "",
    ranking: ranked.map((candidate) => candidate.name),
    reasons: `${winner?.name ?? "none"} adds ${count} test${count === 1 ? "" : "s"}, more than the others; both pass the check.`,
  };
};
