import { UsageError, unreachable } from "../errors.js";
import type { RunState, Step } from "../executor/types.js";
import { renderJUnit } from "../report/junit.js";
import { renderMarkdown } from "../report/markdown.js";
import { renderRunSummary } from "../report/summary.js";

/** Formats of `conductor report`. */
export const REPORT_FORMATS = ["json", "junit", "markdown"] as const;
/** One report format. */
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Checks `--format`. */
export function parseReportFormat(text: string): ReportFormat {
  if ((REPORT_FORMATS as readonly string[]).includes(text)) return text as ReportFormat;
  throw new UsageError(`--format ${text} is not a report format: use ${REPORT_FORMATS.join(", ")}`);
}

/**
 * A run's report in one format; `readLogTail` finds the failing steps' logs for JUnit and
 * Markdown; `live`: the run's conductor is still working.
 */
export function renderReport(
  state: RunState,
  format: ReportFormat,
  readLogTail: (workspace: string, step: Step) => string | undefined,
  live = false,
): string {
  switch (format) {
    case "json":
      return renderRunSummary(state);
    case "junit":
      return renderJUnit(state, { readLogTail, live });
    case "markdown":
      return renderMarkdown(state, { readLogTail });
    default:
      return unreachable(format);
  }
}
