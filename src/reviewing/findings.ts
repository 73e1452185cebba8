import path from "node:path";

/**
 * A reviewer's answer as conductor keeps it, and the pure reading of whatever the reviewer
 * printed: codex's review JSON (`findings[]`, `overall_correctness`, …), the same JSON in a code
 * fence or among other text, or the text codex renders from it (`Review comment:` and one
 * `- [P1] title — file:start-end` line per finding). Nothing here does I/O.
 */

/** How urgent a finding is: 0 (P0, must fix) … 3 (P3, nit). */
export type ReviewPriority = 0 | 1 | 2 | 3;

/** The reviewer's overall judgement; `unknown` when it gave none that could be read. */
export type ReviewVerdict = "correct" | "incorrect" | "unknown";

/** Open findings by priority: index 0 is P0 … 3 is P3. */
export type PriorityCounts = [number, number, number, number];

/** Lines of a file a finding points at (1-based, inclusive). */
export interface LineRange {
  start: number;
  end: number;
}

/** One finding of a review. */
export interface ReviewFinding {
  priority: ReviewPriority;
  /** The title without its `[P1]` prefix. */
  title: string;
  body: string;
  /** The file, relative to the worktree when it lies inside it; absent when none was named. */
  file?: string;
  lines?: LineRange;
  /** The reviewer's confidence, 0–1. */
  confidence?: number;
}

/** How the reviewer's output was read. */
export type ReviewForm =
  /** The review JSON (codex's shape or conductor's own `verdict` form). */
  | "json"
  /** The text codex renders from the JSON: findings, but no verdict. */
  | "rendered"
  /** Neither: the output is kept as the explanation, with no verdict and no findings. */
  | "unparsed";

/** A reviewer's answer, typed. */
export interface ParsedReview {
  verdict: ReviewVerdict;
  explanation: string;
  /** The reviewer's overall confidence, 0–1. */
  confidence?: number;
  findings: ReviewFinding[];
  form: ReviewForm;
  /** What was missing or odd in the output, one sentence each (empty when all was well). */
  problems: string[];
}

/** Where relative file names are taken from. */
export interface ParseOptions {
  /** The reviewed worktree: absolute file paths inside it become relative. */
  worktree?: string;
}

/** Reads whatever a reviewer printed as its final answer. Never throws. */
export function parseReviewOutput(text: string, options: ParseOptions = {}): ParsedReview {
  const trimmed = text.trim();
  if (trimmed === "") {
    return unparsed("", ["the reviewer's answer is empty"]);
  }
  const json = findJsonObject(trimmed);
  if (json !== undefined) return reviewFromJson(json, options);
  const rendered = parseRendered(trimmed, options);
  if (rendered !== undefined) return rendered;
  return unparsed(trimmed, ["the reviewer's answer is neither review JSON nor a rendered review"]);
}

/**
 * Reads a review object (codex's `review_output`, or JSON a reviewer printed). Missing or
 * ill-typed fields are tolerated and named in `problems`.
 */
export function reviewFromJson(value: unknown, options: ParseOptions = {}): ParsedReview {
  const problems: string[] = [];
  if (!isRecord(value))
    return unparsed(JSON.stringify(value), ["the review JSON is not an object"]);
  const verdict = readVerdict(value.overall_correctness ?? value.verdict);
  if (verdict === "unknown") problems.push("the review has no overall_correctness verdict");
  const explanation = stringOf(value.overall_explanation ?? value.explanation) ?? "";
  const confidence = confidenceOf(value.overall_confidence_score ?? value.confidence);
  const findings: ReviewFinding[] = [];
  if (value.findings !== undefined && !Array.isArray(value.findings)) {
    problems.push("findings is not a list");
  }
  const listed = Array.isArray(value.findings) ? value.findings : [];
  listed.forEach((raw, index) => {
    const finding = findingFromJson(raw, index, options, problems);
    if (finding !== undefined) findings.push(finding);
  });
  return {
    verdict,
    explanation,
    ...(confidence === undefined ? {} : { confidence }),
    findings,
    form: "json",
    problems,
  };
}

/** How many findings of each priority a review has. */
export function countByPriority(findings: readonly { priority: ReviewPriority }[]): PriorityCounts {
  const counts: PriorityCounts = [0, 0, 0, 0];
  for (const finding of findings) counts[finding.priority]++;
  return counts;
}

/** `patch is correct` / `correct` → correct, `patch is incorrect` / `incorrect` → incorrect. */
export function readVerdict(value: unknown): ReviewVerdict {
  const text = typeof value === "string" ? value.trim().toLowerCase() : "";
  if (/\bincorrect\b/.test(text)) return "incorrect";
  if (/\bcorrect\b/.test(text)) return "correct";
  return "unknown";
}

function findingFromJson(
  raw: unknown,
  index: number,
  options: ParseOptions,
  problems: string[],
): ReviewFinding | undefined {
  const label = `finding ${index + 1}`;
  if (!isRecord(raw)) {
    problems.push(`${label} is not an object; left out`);
    return undefined;
  }
  const titled = splitTitle(stringOf(raw.title) ?? "");
  const body = stringOf(raw.body) ?? "";
  if (titled.title === "" && body === "") {
    problems.push(`${label} has neither title nor body; left out`);
    return undefined;
  }
  let priority = priorityOf(raw.priority) ?? titled.priority;
  if (priority === undefined) {
    problems.push(`${label} has no priority; counted as P3`);
    priority = 3;
  }
  const location = isRecord(raw.code_location) ? raw.code_location : undefined;
  const file = stringOf(location?.absolute_file_path ?? raw.file);
  const lines = rangeOf(location?.line_range ?? raw.lines);
  const confidence = confidenceOf(raw.confidence_score ?? raw.confidence);
  return {
    priority,
    title: titled.title === "" ? firstLine(body) : titled.title,
    body,
    ...(file === undefined ? {} : { file: relativeFile(file, options) }),
    ...(lines === undefined ? {} : { lines }),
    ...(confidence === undefined ? {} : { confidence }),
  };
}

/** `[P1] Title` → priority 1 and `Title`. */
function splitTitle(title: string): { title: string; priority: ReviewPriority | undefined } {
  const match = /^\s*\[P([0-3])\]\s*/i.exec(title);
  if (!match) return { title: title.trim(), priority: undefined };
  return {
    title: title.slice(match[0].length).trim(),
    priority: Number(match[1]) as ReviewPriority,
  };
}

function priorityOf(value: unknown): ReviewPriority | undefined {
  const number = typeof value === "string" ? Number(value.replace(/^P/i, "")) : value;
  if (typeof number !== "number" || !Number.isInteger(number)) return undefined;
  return number >= 0 && number <= 3 ? (number as ReviewPriority) : undefined;
}

function confidenceOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= 1
    ? value
    : undefined;
}

function rangeOf(value: unknown): LineRange | undefined {
  if (!isRecord(value)) return undefined;
  const start = value.start;
  const end = value.end ?? start;
  if (typeof start !== "number" || typeof end !== "number") return undefined;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 1 || end < start) {
    return undefined;
  }
  return { start, end };
}

function relativeFile(file: string, options: ParseOptions): string {
  if (options.worktree === undefined || !path.isAbsolute(file)) return file;
  const relative = path.relative(options.worktree, file);
  return relative === "" || relative.startsWith("..") || path.isAbsolute(relative)
    ? file
    : relative;
}

/**
 * The first JSON object in `text`: the whole text, a fenced block, or the span from the first
 * `{` to the last `}` (models like to wrap JSON in prose).
 */
function findJsonObject(text: string): Record<string, unknown> | undefined {
  const candidates = [text];
  for (const fence of text.matchAll(/```(?:json)?\s*\n([\s\S]*?)```/g)) {
    candidates.push(fence[1] as string);
  }
  const first = text.indexOf("{");
  const last = text.lastIndexOf("}");
  if (first !== -1 && last > first) candidates.push(text.slice(first, last + 1));
  for (const candidate of candidates) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (isRecord(value) && ("findings" in value || "overall_correctness" in value)) return value;
    } catch {
      // not this one
    }
  }
  return undefined;
}

// The dash between a finding and its place is an em dash, written as its escape: the run bundle
// is all ASCII (see src/cli/code-cache.ts).
const FINDING_LINE = /^- \[P([0-3])\] (.*?)(?: \u2014 (.+?)(?::(\d+)(?:-(\d+))?)?)?\s*$/;

/**
 * Codex's rendering of a review: the overall explanation, a blank line, `Review comment:` (or
 * `Review comments:`), then per finding `- [P1] <title> — <file>:<start>-<end>` and its body
 * indented by two spaces. Undefined when the text has no such heading.
 */
function parseRendered(text: string, options: ParseOptions): ParsedReview | undefined {
  const lines = text.split("\n");
  const heading = lines.findIndex((line) => /^Review comments?:\s*$/.test(line.trim()));
  if (heading === -1) return undefined;
  const explanation = lines.slice(0, heading).join("\n").trim();
  const findings: ReviewFinding[] = [];
  const problems = ["the rendered review carries no verdict"];
  let current: { finding: ReviewFinding; body: string[] } | undefined;
  const close = () => {
    if (current === undefined) return;
    current.finding.body = current.body.join("\n").trim();
    findings.push(current.finding);
    current = undefined;
  };
  for (const line of lines.slice(heading + 1)) {
    const match = FINDING_LINE.exec(line);
    if (match) {
      close();
      const [, priority, title, file, start, end] = match;
      const range =
        start === undefined
          ? undefined
          : rangeOf({ start: Number(start), end: Number(end ?? start) });
      current = {
        finding: {
          priority: Number(priority) as ReviewPriority,
          title: (title as string).trim(),
          body: "",
          ...(file === undefined ? {} : { file: relativeFile(file.trim(), options) }),
          ...(range === undefined ? {} : { lines: range }),
        },
        body: [],
      };
    } else if (current !== undefined) {
      current.body.push(line.replace(/^ {2}/, ""));
    } else if (line.trim() !== "") {
      problems.push(`a line after the heading is not a finding: ${clip(line.trim())}`);
    }
  }
  close();
  return { verdict: "unknown", explanation, findings, form: "rendered", problems };
}

function unparsed(text: string, problems: string[]): ParsedReview {
  return { verdict: "unknown", explanation: text, findings: [], form: "unparsed", problems };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" ? value.trim() : undefined;
}

function firstLine(text: string): string {
  return clip(text.split("\n")[0] ?? "");
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
