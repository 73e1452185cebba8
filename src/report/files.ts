import { appendFileSync, closeSync, fstatSync, openSync, readSync } from "node:fs";
import path from "node:path";
import { type RunPaths, writeFileAtomic } from "../executor/run-store.js";
import type { RunState, Step } from "../executor/types.js";
import { secretsOfCopiedEnvFiles } from "../secrets/env-file.js";
import { bytesBeforeExcerpt, redactedExcerpt } from "../secrets/excerpt.js";
import { secretsInEnvironment } from "../secrets/names.js";
import { Redactor } from "../secrets/redact.js";
import { renderJUnit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import { renderRunSummary } from "./summary.js";

/** File names of the reports written into every run folder. */
export const REPORT_FILES = {
  json: "summary.json",
  junit: "junit.xml",
  markdown: "report.md",
} as const;

/** Bytes read from the end of a log for a report's tail: enough for 50 long lines. */
const TAIL_BYTES = 16 * 1024;

/**
 * Writes the run's reports (JSON summary, JUnit XML, Markdown) into its folder, and appends the
 * Markdown to `$GITHUB_STEP_SUMMARY` when GitHub Actions provides one.
 */
export function writeRunReports(paths: RunPaths, state: RunState): void {
  const redactor = new Redactor(secretsInEnvironment(process.env));
  const tail = (workspace: string, step: Step) =>
    readLogTail(paths.logFile(workspace, step), redactor);
  const markdown = renderMarkdown(state, { readLogTail: tail });
  writeFileAtomic(path.join(paths.dir, REPORT_FILES.json), renderRunSummary(state));
  writeFileAtomic(
    path.join(paths.dir, REPORT_FILES.junit),
    renderJUnit(state, { readLogTail: tail }),
  );
  writeFileAtomic(path.join(paths.dir, REPORT_FILES.markdown), markdown);
  const stepSummary = process.env.GITHUB_STEP_SUMMARY;
  if (!stepSummary) return;
  // Only a copy: the run's outcome and its reports in the run folder stand, so a summary file
  // the runner does not let us write must not turn a finished run into an internal error.
  try {
    appendFileSync(stepSummary, `${markdown}\n`);
  } catch (error) {
    process.stderr.write(
      `conductor: warning: could not append the report to $GITHUB_STEP_SUMMARY (${stepSummary}): ${(error as Error).message}; it is in ${path.join(paths.dir, REPORT_FILES.markdown)}\n`,
    );
  }
}

/**
 * What a report made again from a run's record is redacted with: the secrets of the environment
 * it is made in and of the env files the run copied, as the main checkout has them. The record
 * was redacted as conductor wrote it, but it is a file in the repository that an agent of a
 * later step could have written to, and a report is meant to leave the machine.
 */
export async function reportRedactor(state: RunState | undefined): Promise<Redactor> {
  const copied = new Set(Object.values(state?.workspaces ?? {}).flatMap((ws) => ws.copied));
  const root = state?.plan.repo.root;
  return new Redactor([
    ...secretsInEnvironment(process.env),
    ...(root === undefined ? [] : await secretsOfCopiedEnvFiles(root, [...copied])),
  ]);
}

/**
 * The last few KiB of a log (the whole of a short one), or undefined when there is none. Logs are
 * redacted as they are written; they are redacted again with `redactor` (at least the secrets of
 * the environment the report is made in), since a report is meant to leave the machine.
 */
export function readLogTail(
  file: string,
  redactor: Redactor,
  bytes = TAIL_BYTES,
): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const size = fstatSync(fd).size;
    const from = Math.max(0, size - bytes);
    const offset = Math.max(0, from - bytesBeforeExcerpt(redactor));
    const buffer = Buffer.alloc(size - offset);
    readSync(fd, buffer, 0, buffer.length, offset);
    return redactedExcerpt(buffer, offset, from, redactor).text;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
