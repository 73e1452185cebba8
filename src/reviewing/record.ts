import type { ReviewFailure } from "../executor/types.js";
import type { AgentKind } from "../schema/config.js";
import {
  countByPriority,
  type ParsedReview,
  type PriorityCounts,
  type ReviewFinding,
  type ReviewForm,
  type ReviewPriority,
  type ReviewVerdict,
} from "./findings.js";

/** How a review ended: it gave an answer, it could not, or there was nothing to review. */
export type ReviewStatus = "completed" | "failed" | "skipped";

/**
 * `review.json` in a workspace's run folder: one review of the workspace's changes, as
 * conductor keeps it. `checks`, `continue --fix-review`, reports and other commands read it.
 */
export interface ReviewRecord {
  formatVersion: 1;
  runId: string;
  workspace: string;
  reviewer: AgentKind;
  /** The commit the changes were reviewed against (the workspace's start point). */
  base: string;
  /** The commit reviewed: the branch head when the review started. */
  head: string;
  /** When the review finished (ISO time). */
  reviewedAt: string;
  status: ReviewStatus;
  verdict: ReviewVerdict;
  explanation: string;
  confidence?: number;
  findings: RecordedFinding[];
  /** Findings by priority, P0 first. */
  counts: PriorityCounts;
  /** How the reviewer's output was read; absent when the reviewer gave none. */
  form?: ReviewForm;
  /** What was missing or odd in the reviewer's output. */
  problems: string[];
  failure?: ReviewFailure;
}

/** A finding as recorded: with whether it points at a file the diff does not touch. */
export interface RecordedFinding extends ReviewFinding {
  /** The finding names a file the workspace's diff does not change. */
  outsideDiff?: boolean;
}

/** What a record is made from: what it says of the review, and the files the diff changes. */
export interface RecordFacts
  extends Pick<ReviewRecord, "runId" | "workspace" | "reviewer" | "base" | "head" | "reviewedAt"> {
  /** Files the diff changes, relative to the worktree. */
  changedFiles: ReadonlySet<string>;
}

/** The record of a review that gave an answer (or failed after giving one). */
export function reviewRecord(
  facts: RecordFacts,
  parsed: ParsedReview | undefined,
  failure: ReviewFailure | undefined,
): ReviewRecord {
  const findings: RecordedFinding[] = (parsed?.findings ?? []).map((finding) =>
    finding.file === undefined || facts.changedFiles.has(finding.file)
      ? finding
      : { ...finding, outsideDiff: true },
  );
  const status: ReviewStatus = failure === undefined ? "completed" : "failed";
  return {
    formatVersion: 1,
    runId: facts.runId,
    workspace: facts.workspace,
    reviewer: facts.reviewer,
    base: facts.base,
    head: facts.head,
    reviewedAt: facts.reviewedAt,
    status,
    verdict: parsed?.verdict ?? "unknown",
    explanation: parsed?.explanation ?? "",
    ...(parsed?.confidence === undefined ? {} : { confidence: parsed.confidence }),
    findings,
    counts: countByPriority(findings),
    ...(parsed === undefined ? {} : { form: parsed.form }),
    problems: parsed?.problems ?? [],
    ...(failure === undefined ? {} : { failure }),
  };
}

/** The record of a workspace with nothing to review. */
export function skippedRecord(facts: RecordFacts): ReviewRecord {
  return {
    ...reviewRecord(facts, undefined, undefined),
    status: "skipped",
    explanation: "The branch has no changes against its start point: nothing to review.",
  };
}

const VERDICT_TEXT: Record<ReviewVerdict, string> = {
  correct: "patch is correct",
  incorrect: "patch is incorrect",
  unknown: "no verdict",
};

/** `review.md`: the review for people. */
export function renderReviewMarkdown(record: ReviewRecord): string {
  const lines = [`# Review of ${record.workspace}`, ""];
  lines.push(
    `${record.reviewer} reviewed ${record.head.slice(0, 10)} against ${record.base.slice(0, 10)} (run ${record.runId}, ${record.reviewedAt}).`,
    "",
  );
  switch (record.status) {
    case "skipped":
      lines.push(`**Skipped:** ${record.explanation}`, "");
      return `${lines.join("\n").trimEnd()}\n`;
    case "failed":
      lines.push(`**The review failed:** ${record.failure?.message ?? "no answer"}`, "");
      break;
    case "completed":
      lines.push(
        `**Verdict:** ${VERDICT_TEXT[record.verdict]}${record.confidence === undefined ? "" : ` (confidence ${record.confidence})`}`,
        "",
      );
      break;
  }
  if (record.explanation !== "") lines.push(record.explanation, "");
  if (record.findings.length === 0) {
    lines.push(record.status === "completed" ? "No findings." : "", "");
  } else {
    lines.push(`## Findings (${record.findings.length})`, "");
    for (const finding of record.findings) lines.push(...findingLines(finding), "");
  }
  if (record.problems.length > 0) {
    lines.push("## What the reviewer's answer lacked", "");
    for (const problem of record.problems) lines.push(`- ${problem}`);
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

function findingLines(finding: RecordedFinding): string[] {
  const where = locationOf(finding);
  const notes = [
    finding.confidence === undefined ? "" : `confidence ${finding.confidence}`,
    finding.outsideDiff ? "outside the diff" : "",
  ].filter(Boolean);
  return [
    `### [P${finding.priority}] ${finding.title}`,
    ...(where === "" && notes.length === 0
      ? []
      : [
          `${where === "" ? "" : `\`${where}\``}${notes.length === 0 ? "" : ` (${notes.join(", ")})`}`,
        ]),
    ...(finding.body === "" ? [] : ["", finding.body]),
  ];
}

/** `src/a.js:3-5`, `src/a.js:3`, `src/a.js`, or "" for a finding without a file. */
export function locationOf(finding: Pick<ReviewFinding, "file" | "lines">): string {
  if (finding.file === undefined) return "";
  if (finding.lines === undefined) return finding.file;
  const { start, end } = finding.lines;
  return `${finding.file}:${start === end ? start : `${start}-${end}`}`;
}

/** The findings to fix, of the given priorities (all when `priorities` is undefined). */
export function findingsToFix(
  record: ReviewRecord,
  priorities: readonly ReviewPriority[] | undefined,
): RecordedFinding[] {
  return record.findings.filter(
    (finding) => priorities === undefined || priorities.includes(finding.priority),
  );
}

/** The follow-up prompt that hands findings back to the implementing session. */
export function fixReviewPrompt(
  record: ReviewRecord,
  findings: readonly RecordedFinding[],
): string {
  const lines = [
    `A reviewer looked at your changes (${record.head.slice(0, 10)} against ${record.base.slice(0, 10)}) and found the problems below. Fix each of them in this workspace; if one is not a real problem, leave the code as it is and say why in your final message.`,
    "",
  ];
  findings.forEach((finding, index) => {
    const where = locationOf(finding);
    lines.push(
      `${index + 1}. [P${finding.priority}] ${finding.title}${where === "" ? "" : ` (${where})`}`,
    );
    if (finding.body !== "") lines.push(...finding.body.split("\n").map((line) => `   ${line}`));
  });
  return lines.join("\n");
}
