import path from "node:path";
import { runsDir } from "../executor/run-store.js";
import { spentUsage } from "../executor/spending.js";
import { countWorkspaces } from "../executor/state-fold.js";
import type {
  DiffStat,
  RunState,
  RunStatus,
  Step,
  WorkspaceState,
  WorkspaceStatus,
} from "../executor/types.js";
import { runWorkedMs } from "../executor/worked-time.js";
import { relativeInside } from "../fs/is-inside.js";
import { formatDuration } from "../schema/duration.js";
import { addUsage, NO_USAGE } from "../usage/usage.js";
import { budgetLine, runReason } from "./budget-view.js";
import {
  cleanText,
  describeFailure,
  describeReview,
  failureLogPath,
  formatTokens,
  formatWorkspaceDuration,
  stripAnsi,
  totalTokens,
} from "./format.js";
import { tokensCell } from "./plain.js";
import { describeSelection } from "./selection.js";

/** Options of {@link renderMarkdown}. */
export interface MarkdownOptions {
  /**
   * Longest final agent message shown per workspace, in characters. GitHub caps a job's step
   * summary at 1 MiB, so fifty chatty agents must not crowd the table out. Default 8000.
   */
  maxMessageChars?: number;
  /**
   * The end of a workspace's step log (already redacted), or undefined when there is none. A
   * failed step's tail is shown under its failure: a CI reader has no access to the log file.
   */
  readLogTail?: (workspace: string, step: Step) => string | undefined;
  /** Lines of a failed step's log shown. Default 30. */
  logTailLines?: number;
}

/** Characters of log tails in one report, together; past it only the log's path is given. */
const LOG_TAILS_BUDGET = 256 * 1024;
/** Longest log line shown; the rest of it is cut. */
const LOG_LINE_CHARS = 400;

const STATUS_ICON: Record<WorkspaceStatus, string> = {
  pending: "💤",
  running: "⏳",
  succeeded: "✅",
  failed: "❌",
  skipped: "⏭️",
  interrupted: "⏹️",
};

const RUN_ICON: Record<RunStatus, string> = {
  running: "⏳",
  succeeded: "✅",
  failed: "❌",
  interrupted: "⏹️",
};

/**
 * The Markdown report of a run, suited for `$GITHUB_STEP_SUMMARY` and pull requests: a heading,
 * one table row per workspace (status, duration, tokens, files +/−, check, branch), then per
 * workspace its failure, diff stat and final agent message (in a collapsible `<details>`).
 */
export function renderMarkdown(state: RunState, options: MarkdownOptions = {}): string {
  const maxMessageChars = options.maxMessageChars ?? 8000;
  let tailBudget = LOG_TAILS_BUDGET;
  const logTail = (workspace: WorkspaceState, step: Step): string[] => {
    const tail = options.readLogTail?.(workspace.name, step);
    if (tail === undefined || tailBudget <= 0) return [];
    const block = logTailBlock(tail, step, options.logTailLines ?? 30);
    tailBudget -= block.reduce((sum, line) => sum + line.length + 1, 0);
    return block;
  };
  const workspaces = Object.values(state.workspaces);
  const counts = countWorkspaces(state);
  const tally = (Object.keys(counts) as WorkspaceStatus[])
    .filter((status) => counts[status] > 0)
    .map((status) => `${counts[status]} ${status}`)
    .join(" · ");
  const tokens = totalTokens(
    workspaces.reduce(
      (sum, workspace) => addUsage(sum, spentUsage(workspace) ?? NO_USAGE),
      NO_USAGE,
    ),
  );
  const shard = state.plan.selection.shard;
  // A run of some tasks, one shard, or a merge of some shards (--partial) covers part of the
  // plan: the report says so, or it would read as the whole run's.
  const covered = state.plan.workspaces.length;
  const total = state.plan.selection.totalWorkspaces;
  const part = [
    ...(shard === undefined ? [] : [`shard ${shard.index}/${shard.count}`]),
    ...(covered < total ? [`${covered} of ${total} workspaces`] : []),
  ];
  const lines = [
    `## ${RUN_ICON[state.status]} conductor run ${code(state.runId)}: ${state.status}`,
    "",
    [
      tally === "" ? "no workspaces" : tally,
      `${formatTokens(tokens)} tokens`,
      // Time spent working (sessions summed), not the time since the run was created.
      formatDuration(runWorkedMs(state)),
      `plan ${code(state.plan.hash.slice(0, 12))}${part.length === 0 ? "" : ` (${part.join(", ")})`}`,
      `base ${code(state.plan.base.ref)} (${code(state.plan.base.commit.slice(0, 10))})`,
    ].join(" — "),
    "",
    ...budgetLines(state),
    "| Workspace | Status | Duration | Tokens | Files (+/−) | Check | Branch |",
    "| --- | --- | ---: | ---: | --- | --- | --- |",
    ...workspaces.map((workspace) => tableRow(state, workspace)),
    ...selectionLines(state),
  ];
  for (const workspace of workspaces) {
    const section = workspaceSection(state, workspace, maxMessageChars, logTail);
    if (section.length > 0) lines.push("", ...section);
  }
  return `${lines.join("\n")}\n`;
}

/** Each task that picks a winner: `**fix-dates**: winner: fix-dates-2 — passed check, …`. */
function selectionLines(state: RunState): string[] {
  const lines = (state.plan.selections ?? []).map((selection) => {
    const record = state.selections?.[selection.taskId];
    const text = record === undefined ? "winner not picked yet" : describeSelection(record);
    return `- **${escapeInline(selection.taskId)}**: ${escapeInline(text)}`;
  });
  return lines.length === 0 ? [] : ["", ...lines];
}

/** The run's spending against its budget, and that the budget stopped it; nothing without one. */
function budgetLines(state: RunState): string[] {
  const line = budgetLine(state, new Date(state.updatedAt));
  if (line === undefined) return [];
  const stopped =
    runReason(state) === "budget" ? "**Stopped at its budget** (reason: budget). " : "";
  return [`${stopped}${line.charAt(0).toUpperCase()}${line.slice(1)}`, ""];
}

function tableRow(state: RunState, workspace: WorkspaceState): string {
  const planned = state.plan.workspaces.find((w) => w.name === workspace.name);
  const cells = [
    workspace.name,
    `${STATUS_ICON[workspace.status]} ${workspace.status}`,
    formatWorkspaceDuration(workspace),
    tokensCell(spentUsage(workspace)),
    workspace.diff === undefined ? "-" : filesCell(workspace.diff),
    workspace.check ?? "-",
    planned === undefined ? "-" : code(planned.branch),
  ];
  return `| ${cells.map(cell).join(" | ")} |`;
}

function filesCell(diff: DiffStat): string {
  return `${diff.files} (+${diff.insertions} −${diff.deletions})`;
}

function workspaceSection(
  state: RunState,
  workspace: WorkspaceState,
  maxMessageChars: number,
  logTail: (workspace: WorkspaceState, step: Step) => string[],
): string[] {
  const body: string[] = [];
  if (workspace.failure !== undefined) {
    const log = failureLogPath(workspace.failure);
    body.push(
      `**${escapeInline(describeFailure(workspace.failure))}**${log === undefined ? "" : ` — log: ${code(repoRelative(state, log))}`}`,
      "",
    );
    if (log !== undefined) {
      const tail = logTail(workspace, workspace.failure.step);
      if (tail.length > 0) body.push(...tail, "");
    }
  }
  if (workspace.diff !== undefined) {
    const commit =
      workspace.commit === undefined ? "" : ` — commit ${code(workspace.commit.slice(0, 10))}`;
    body.push(`${diffStatLine(workspace.diff)}${commit}`, "");
  }
  if (workspace.review !== undefined && workspace.review.status !== "running") {
    const file = path.join(
      runsDir(state.plan.repo.root),
      state.runId,
      "workspaces",
      workspace.name,
      "review.md",
    );
    const saved =
      workspace.review.status === "skipped" ? "" : ` — ${code(repoRelative(state, file))}`;
    body.push(
      `**Review (${workspace.review.reviewer}):** ${escapeInline(describeReview(workspace.review))}${saved}`,
      "",
    );
  }
  const message = workspace.agent.finalMessage;
  if (message !== undefined && message.trim() !== "") {
    body.push(
      "<details><summary>Final agent message</summary>",
      "",
      agentMessage(message, maxMessageChars),
      "",
      "</details>",
      "",
    );
  }
  if (body.length === 0) return [];
  body.pop(); // the blank line after the last paragraph
  return [`### ${STATUS_ICON[workspace.status]} ${escapeInline(workspace.name)}`, "", ...body];
}

/**
 * A log path as the repository sees it (`.conductor/runs/…`): the same in a CI artifact as on
 * the machine that ran, where an absolute path names nothing.
 */
function repoRelative(state: RunState, file: string): string {
  return relativeInside(state.plan.repo.root, file) ?? file;
}

/**
 * The last lines of a failed step's log in a code block, open by default: plain text (escapes
 * and control characters removed), long lines cut, in a fence longer than any inside.
 */
function logTailBlock(tail: string, step: Step, count: number): string[] {
  const lines = cleanText(tail)
    .replace(/\r\n?/g, "\n")
    .replace(/\n+$/, "")
    .split("\n")
    .slice(-count)
    .map((line) => (line.length > LOG_LINE_CHARS ? `${line.slice(0, LOG_LINE_CHARS - 1)}…` : line));
  if (lines.every((line) => line.trim() === "")) return [];
  const longest = Math.max(
    2,
    ...lines.map((line) =>
      (line.match(/`+/g) ?? []).reduce((max, run) => Math.max(max, run.length), 0),
    ),
  );
  const fence = "`".repeat(longest + 1);
  return [
    `<details open><summary>Last ${lines.length} lines of the ${step} log</summary>`,
    "",
    `${fence}text`,
    ...lines,
    fence,
    "",
    "</details>",
  ];
}

/** `3 files changed, 12 insertions(+), 4 deletions(-)`, as `git diff --shortstat` says it. */
function diffStatLine(diff: DiffStat): string {
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;
  return `${plural(diff.files, "file")} changed, ${plural(diff.insertions, "insertion")}(+), ${plural(diff.deletions, "deletion")}(-)`;
}

/**
 * The agent's final message is Markdown and is shown as such, but it must not break the report
 * around it: an unclosed code fence would swallow the closing `</details>`, and its own
 * details/summary tags would close ours.
 */
function agentMessage(message: string, maxChars: number): string {
  let text = stripAnsi(message).replace(/\r\n?/g, "\n").trim();
  if (text.length > maxChars) {
    const cut = text.length - maxChars;
    text = `${text.slice(0, maxChars)}\n\n*(${cut} more characters cut)*`;
  }
  text = text.replace(/<(\/?)(details|summary)\b/gi, "&lt;$1$2");
  const fences = text.split("\n").filter((line) => /^\s{0,3}(```|~~~)/.test(line));
  const lastFence = fences.at(-1);
  if (fences.length % 2 === 1 && lastFence !== undefined) {
    text = `${text}\n${lastFence.trim().startsWith("~") ? "~~~" : "```"}`;
  }
  return text;
}

/** A table cell: one line, pipes escaped (GFM splits cells on any unescaped `|`). */
function cell(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

/** Text outside code spans: characters that would start HTML or emphasis are escaped. */
function escapeInline(text: string): string {
  return text.replace(/[\\`*_<>[\]|]/g, (char) => `\\${char}`).replace(/\r?\n/g, " ");
}

/** A code span that survives backticks in its text (the fence is longer than any run inside). */
function code(text: string): string {
  const clean = text.replace(/\r?\n/g, " ");
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = clean.startsWith("`") || clean.endsWith("`") ? " " : "";
  return `${fence}${pad}${clean}${pad}${fence}`;
}
