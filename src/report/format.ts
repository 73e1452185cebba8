import type { AgentActivity } from "../agents/types.js";
import { unreachable } from "../errors.js";
import type {
  DiffStat,
  Failure,
  ReviewState,
  WorkspaceState,
  WorkspaceStatus,
} from "../executor/types.js";
import { formatDuration } from "../schema/duration.js";
import { formatTokens, totalTokens } from "../usage/usage.js";
import { ESCAPE_SEQUENCE } from "./escape-sequence.js";

export { formatTokens, totalTokens };

/** `3 files +12 −4`: a diff stat in one short cell. */
export function formatDiff(diff: DiffStat | undefined): string {
  if (diff === undefined) return "-";
  const files = `${diff.files} file${diff.files === 1 ? "" : "s"}`;
  return `${files} +${diff.insertions} −${diff.deletions}`;
}

/** A workspace's duration so far or in total; `-` when it never started. */
export function formatWorkspaceDuration(workspace: WorkspaceState): string {
  return workspace.durationMs === undefined ? "-" : formatDuration(workspace.durationMs);
}

/** One-glyph marks of workspace statuses, as the live and plain views show them. */
export const STATUS_MARK: Record<WorkspaceStatus, string> = {
  pending: "·",
  running: "…",
  succeeded: "✔",
  failed: "✖",
  skipped: "↷",
  interrupted: "■",
};

const ANSI_SEQUENCE = new RegExp(ESCAPE_SEQUENCE.source, "g");

/**
 * Characters that are never text: control characters other than tab, newline and carriage
 * return, U+FFFE/U+FFFF, and lone surrogates. Programs that print binary junk produce them;
 * XML 1.0 cannot carry most of them at all, and terminals garble on them.
 */
const JUNK =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what must go
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Removes terminal escape sequences (colours, cursor moves, titles) from program output. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_SEQUENCE, "");
}

/** Program output made plain text: escape sequences and non-text characters removed. */
export function cleanText(text: string): string {
  return stripAnsi(text).replace(JUNK, "");
}

/**
 * Text from agents and scripts made safe for one line of a report: cleaned with
 * {@link cleanText}, whitespace collapsed, cut at `max` characters with an ellipsis.
 */
export function oneLine(text: string, max = 160): string {
  const clean = cleanText(text).replace(/\s+/g, " ").trim();
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}

/** The first line of a text, made safe with {@link oneLine}, with an ellipsis if more followed. */
export function firstLine(text: string, max = 160): string {
  const trimmed = cleanText(text).trim();
  const newline = trimmed.indexOf("\n");
  if (newline === -1) return oneLine(trimmed, max);
  return oneLine(`${trimmed.slice(0, newline).trimEnd()} …`, max);
}

/** What the agent is doing, for people: `running npm test`, `editing src/app.ts`. */
export function describeActivity(activity: AgentActivity): string {
  switch (activity.kind) {
    case "session":
      return `session ${activity.sessionId}`;
    case "command":
      return activity.exitCode === undefined
        ? `running ${firstLine(activity.command, 120)}`
        : `ran ${firstLine(activity.command, 120)} (exit ${activity.exitCode})`;
    case "file-change": {
      const [first, ...rest] = activity.paths;
      if (first === undefined) return "editing files";
      const more = rest.length === 0 ? "" : ` (+${rest.length} more)`;
      return `editing ${oneLine(first, 120)}${more}`;
    }
    case "message":
      return `says: ${firstLine(activity.text)}`;
    case "reasoning":
      return `thinking: ${firstLine(activity.text)}`;
    case "usage":
      return `${formatTokens(totalTokens(activity.usage))} tokens`;
    case "warning":
      return `warning: ${firstLine(activity.message)}`;
    case "error":
      return `error: ${firstLine(activity.message)}`;
    case "connection-error":
      return `cannot reach its provider: ${firstLine(activity.message)}`;
    default:
      return unreachable(activity);
  }
}

/**
 * How much of a message a view keeps: `short`, its first line cut to fit a row (the live view, a
 * report's cell); `whole`, all of it on one line (plain output, where people copy the paths and
 * commands a message names, so a cut would break them).
 */
export type MessageFit = "short" | "whole";

/** A message made one line, cut or not as `fit` says. */
function fitted(message: string, fit: MessageFit): string {
  return fit === "whole" ? oneLine(message, Number.POSITIVE_INFINITY) : firstLine(message);
}

/** Why a workspace failed, in a few words: `check failed (exit 1)`, `agent timed out after 30m00s`. */
export function describeFailure(failure: Failure, fit: MessageFit = "short"): string {
  const { step } = failure;
  switch (failure.reason) {
    case "exit-non-zero":
      return `${step} failed (exit ${failure.exitCode})`;
    case "signal":
      return `${step} killed by ${failure.signal}`;
    case "timeout":
      return `${step} timed out after ${formatDuration(failure.timeoutMs)}`;
    case "spawn-error":
      return `${step} could not start: ${fitted(failure.message, fit)}`;
    case "agent-error":
      return `agent error: ${fitted(failure.message, fit)}`;
    case "git-error":
      return `${step}: git error: ${fitted(failure.message, fit)}`;
    case "conflict":
      return `${step}: ${fitted(failure.message, fit)}`;
    case "integrity":
      return `${step}: ${fitted(failure.message, fit)}`;
    case "io-error":
      return `${step}: ${fitted(failure.message, fit)}`;
    case "dependency-failed":
      return `dependency ${failure.dependency} did not succeed`;
    case "cancelled":
      return `${step} cancelled`;
    case "unreachable":
      return `${step} could not reach ${failure.url ?? "its provider"} for ${formatDuration(failure.timeoutMs)}`;
    case "idle":
      return `${step} printed nothing for ${formatDuration(failure.idleMs)}`;
    case "budget":
      // Says whose budget, which limit and how far over: "not started: the run's token budget…".
      return fitted(failure.message, fit);
    default:
      return unreachable(failure);
  }
}

/**
 * `<why> after <took>`, unless the failure already says how long: a timeout names its limit,
 * and "timed out after 2.0s after 2.0s" would say it twice.
 */
export function failedAfter(why: string, failure: Failure | undefined, took: string): string {
  return failure?.reason === "timeout" ? why : `${why} after ${took}`;
}

/** The log file of a failure, when the step wrote one. */
export function failureLogPath(failure: Failure): string | undefined {
  return "logPath" in failure ? failure.logPath : undefined;
}

/** `2 P1, 1 P3`, or `no findings`: a review's findings by priority. */
export function formatFindingCounts(counts: readonly number[] | undefined): string {
  const parts = (counts ?? [])
    .map((count, priority) => (count > 0 ? `${count} P${priority}` : ""))
    .filter(Boolean);
  return parts.length === 0 ? "no findings" : parts.join(", ");
}

/** A review's verdict as codex words it: `patch is correct`, `patch is incorrect`, `no verdict`. */
export function verdictWords(verdict: ReviewState["verdict"]): string {
  if (verdict === "correct") return "patch is correct";
  return verdict === "incorrect" ? "patch is incorrect" : "no verdict";
}

/**
 * A review's outcome in one line: `patch is incorrect; 1 P1, 1 P3`, `failed: <why>`,
 * `skipped: no changes`, `running`.
 */
export function describeReview(
  review: Pick<ReviewState, "status" | "verdict" | "counts" | "failure">,
): string {
  switch (review.status) {
    case "running":
      return "running";
    case "skipped":
      return "skipped: no changes to review";
    case "failed":
      return `failed: ${oneLine(review.failure?.message ?? "no answer")}`;
    case "completed":
      return `${verdictWords(review.verdict)}; ${formatFindingCounts(review.counts)}`;
    default:
      return unreachable(review.status);
  }
}
