import type { SelectionRecord } from "../executor/events.js";

/** Longest judge reason quoted on one line; the run folder has all of it. */
const MAX_REASON_CHARS = 120;

/**
 * One line about a task's selection, as `status`, the plain view and the reports show it:
 * `winner: fix-date-parsing-2 — passed check, 0 findings, judge: "…"`.
 */
export function describeSelection(record: SelectionRecord): string {
  if (record.winner === undefined) {
    const candidates = record.ranking.candidates
      .map((candidate) => `${candidate.name} ${candidate.summary}`)
      .join("; ");
    return `no winner: ${record.note ?? "no candidate passed"} (${candidates})`;
  }
  const winner = record.ranking.candidates.find((candidate) => candidate.name === record.winner);
  const parts = (winner?.summary ?? "")
    .split(", ")
    .filter((part) => part !== "" && !part.startsWith("judge #"));
  if (record.manual) {
    // The judge's reasons were about the automatic pick, not this one.
  } else if (record.judge?.status === "chose" && record.judge.reasons !== undefined) {
    parts.push(`judge: "${shorten(record.judge.reasons.replace(/\s+/g, " ").trim())}"`);
  } else if (record.judge !== undefined && record.judge.status !== "chose") {
    parts.push(`judge ${record.judge.status}: ${record.judge.problem ?? "no answer"}`);
  }
  if (record.manual) parts.push("picked by hand");
  else if (record.ranking.decidedBy === "first-passing") parts.push("first to pass");
  const branch = record.branch === undefined ? "" : ` (branch ${record.branch})`;
  return `winner: ${record.winner}${branch} — ${parts.join(", ")}`;
}

function shorten(text: string): string {
  return text.length <= MAX_REASON_CHARS ? text : `${text.slice(0, MAX_REASON_CHARS - 1)}…`;
}
