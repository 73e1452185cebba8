/** Reporters of a run's events (live, plain, JSON lines) and its reports (JSON, JUnit, Markdown). */

export { REPORT_FILES, readLogTail, writeRunReports } from "./files.js";
export {
  cleanText,
  describeActivity,
  describeFailure,
  formatTokens,
  oneLine,
  stripAnsi,
  totalTokens,
} from "./format.js";
export { createJsonLinesReporter, type JsonLinesReporterOptions } from "./json-lines.js";
export { type JUnitOptions, LOG_TAIL_LINES, renderJUnit, xmlSafe } from "./junit.js";
export { createLiveReporter, type LiveReporterOptions } from "./live.js";
export { type MarkdownOptions, renderMarkdown } from "./markdown.js";
export { mergeRunStates } from "./merge.js";
export {
  createPlainReporter,
  formatPlainEvent,
  type PlainReporterOptions,
  summaryTable,
} from "./plain.js";
export {
  buildRunSummary,
  type RunSummary,
  renderRunSummary,
  SUMMARY_FORMAT_VERSION,
  type SummaryFailure,
  type TokenTotals,
  type WorkspaceSummary,
} from "./summary.js";
export { renderTable } from "./table.js";
