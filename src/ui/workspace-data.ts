import { open, readFile, stat } from "node:fs/promises";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { RunPaths } from "../executor/run-store.js";
import { runGitHead } from "../git/run-git.js";
import { workspaceDiffArgs } from "../review/diff.js";
import { LOG_STEPS, type LogStep } from "../review/logs.js";
import type { ReviewRecord } from "../reviewing/record.js";
import { reviewFile } from "../reviewing/result.js";
import { bytesBeforeExcerpt, redactedExcerpt } from "../secrets/excerpt.js";
import type { Redactor } from "../secrets/redact.js";
import type { TimelineLog } from "./timeline-log.js";
import type { TimelineEntry } from "./views.js";

/** What the page reads of one workspace besides its row: diff, logs, timeline. */

/** A changed file with its line counts (`binary` when git counts no lines). */
export interface FileStat {
  path: string;
  added: number;
  removed: number;
  binary: boolean;
}

/** The branch's changes against its start point, as `conductor diff` shows them. */
export interface WorkspaceDiff {
  files: FileStat[];
  /** Unified diff text, cut at {@link MAX_PATCH_BYTES}. */
  patch: string;
  /** The patch was cut, or the file list (past {@link MAX_NUMSTAT_BYTES} of git's numstat). */
  truncated: boolean;
}

/** Largest patch sent to the page. */
export const MAX_PATCH_BYTES = 4 * 1024 * 1024;

/** Bytes of `git diff --numstat` read: tens of thousands of files; a branch can hold more. */
export const MAX_NUMSTAT_BYTES = 8 * 1024 * 1024;

/**
 * The workspace's diff: file list with stats and the patch (the arguments of `conductor diff`),
 * redacted with `redactor` where the patch is cut: a secret across the cut is replaced whole.
 */
export async function workspaceDiff(
  found: FoundWorkspace,
  redactor: Redactor,
): Promise<WorkspaceDiff> {
  const root = found.run.plan.repo.root;
  const [command, ...range] = await workspaceDiffArgs(found, { stat: false });
  const options = ["--no-color", "--no-ext-diff", "--find-renames"];
  const [numstat, patch] = await Promise.all([
    runGitHead(root, [command as string, ...options, "--numstat", ...range], MAX_NUMSTAT_BYTES),
    // Only the part sent is read: an agent's branch can hold a patch larger than a string can
    // (hundreds of files just under max_file_size), which ended the page's server.
    runGitHead(root, [command as string, ...options, ...range], MAX_PATCH_BYTES),
  ]);
  // A cut list ends in a part of a line: only whole lines count.
  const lines = numstat.truncated
    ? numstat.stdout.slice(0, numstat.stdout.lastIndexOf("\n") + 1)
    : numstat.stdout;
  const files = lines
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [added = "", removed = "", ...name] = line.split("\t");
      const binary = added === "-";
      return {
        path: name.join("\t"),
        added: binary ? 0 : Number(added),
        removed: binary ? 0 : Number(removed),
        binary,
      };
    });
  return {
    files,
    patch: patch.truncated ? redactor.redactExcerpt(patch.stdout, 0) : patch.stdout,
    truncated: patch.truncated || numstat.truncated,
  };
}

/** A slice of a step's log: `text` is bytes `start`…`end` of a file of `size` bytes. */
export interface LogSlice {
  step: LogStep;
  text: string;
  start: number;
  end: number;
  size: number;
}

/** Bytes of a log sent at once; "more" asks for the slice before. */
export const LOG_SLICE_BYTES = 64 * 1024;

/** The steps of a workspace that have a log, with their sizes. */
export async function logSizes(found: FoundWorkspace): Promise<{ step: LogStep; size: number }[]> {
  const paths = new RunPaths(found.run.plan.repo.root, found.run.runId);
  const sizes = await Promise.all(
    LOG_STEPS.map(async (step) => ({
      step,
      size:
        (await stat(paths.logFile(found.workspace.name, step)).catch(() => undefined))?.size ?? 0,
    })),
  );
  return sizes.filter((entry) => entry.size > 0);
}

/**
 * The last {@link LOG_SLICE_BYTES} of a log before byte `before` (the end when absent), redacted
 * with `redactor` where the slice is cut: a secret across either of its ends is replaced whole.
 */
export async function logSlice(
  found: FoundWorkspace,
  step: LogStep,
  before: number | undefined,
  redactor: Redactor,
): Promise<LogSlice> {
  const file = new RunPaths(found.run.plan.repo.root, found.run.runId).logFile(
    found.workspace.name,
    step,
  );
  const handle = await open(file, "r").catch(() => undefined);
  if (handle === undefined) return { step, text: "", start: 0, end: 0, size: 0 };
  try {
    const { size } = await handle.stat();
    const end = Math.min(before ?? size, size);
    // Starts at a line: the page joins slices, and half a line (or half a character) reads badly.
    const from = Math.max(0, end - LOG_SLICE_BYTES);
    const offset = Math.max(0, from - bytesBeforeExcerpt(redactor));
    const buffer = Buffer.alloc(end - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    return { step, ...redactedExcerpt(buffer, offset, from, redactor), size };
  } finally {
    await handle.close();
  }
}

/** Entries of a timeline sent at once (the newest). */
export const TIMELINE_LIMIT = 2000;

/**
 * The workspace's activity timeline from the events log (read by `log` from where it last
 * stopped), and the agent's final message.
 */
export async function workspaceTimeline(
  found: FoundWorkspace,
  log: TimelineLog,
): Promise<{ entries: TimelineEntry[]; finalMessage: string | undefined; omitted: number }> {
  const paths = new RunPaths(found.run.plan.repo.root, found.run.runId);
  const { entries, omitted } = await log.entriesOf(found.workspace.name);
  const finalMessage =
    found.state.agent.finalMessage ??
    (await readFile(paths.finalMessageFile(found.workspace.name), "utf8").catch(() => undefined));
  return { entries, finalMessage, omitted };
}

/** A review finding as the page anchors it to the diff. */
export interface PageFinding {
  priority: number;
  title: string;
  body: string;
  file?: string | undefined;
  lines?: { start: number; end: number } | undefined;
  outsideDiff?: boolean | undefined;
}

/** The workspace's latest review (`review.json` of `conductor review`), or undefined. */
export async function workspaceReview(found: FoundWorkspace): Promise<
  | {
      status: string;
      verdict: string;
      explanation: string;
      head?: string | undefined;
      findings: PageFinding[];
    }
  | undefined
> {
  const file = reviewFile(found.run.plan.repo.root, found.run.runId, found.workspace.name);
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  let record: Partial<ReviewRecord>;
  try {
    record = JSON.parse(text) as Partial<ReviewRecord>;
  } catch {
    return {
      status: "failed",
      verdict: "unknown",
      explanation: `${file} is not JSON`,
      findings: [],
    };
  }
  // Only objects: a null among them (a hand-written or forged file) failed the whole answer, and
  // the page then showed none of the findings, a P0 among them.
  const findings = (Array.isArray(record.findings) ? record.findings : []).filter(
    (finding): finding is NonNullable<typeof finding> =>
      typeof finding === "object" && finding !== null,
  );
  return {
    status: String(record.status ?? "completed"),
    verdict: String(record.verdict ?? "unknown"),
    explanation: String(record.explanation ?? ""),
    head: typeof record.head === "string" ? record.head : undefined,
    findings: findings.map((finding) => ({
      priority: typeof finding.priority === "number" ? finding.priority : 3,
      title: String(finding.title ?? ""),
      body: String(finding.body ?? ""),
      file: typeof finding.file === "string" ? finding.file : undefined,
      lines:
        typeof finding.lines?.start === "number" && typeof finding.lines?.end === "number"
          ? { start: finding.lines.start, end: finding.lines.end }
          : undefined,
      outsideDiff: finding.outsideDiff === true ? true : undefined,
    })),
  };
}
