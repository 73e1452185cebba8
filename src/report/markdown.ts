import { countWorkspaces } from "../executor/state-fold.js";
import type {
  DiffStat,
  RunState,
  RunStatus,
  WorkspaceState,
  WorkspaceStatus,
} from "../executor/types.js";
import { formatDuration } from "../schema/duration.js";
import { addUsage, NO_USAGE } from "../usage/usage.js";
import {
  describeFailure,
  failureLogPath,
  formatTokens,
  formatWorkspaceDuration,
  stripAnsi,
  totalTokens,
} from "./format.js";

/** Options of {@link renderMarkdown}. */
export interface MarkdownOptions {
  /**
   * Longest final agent message shown per workspace, in characters. GitHub caps a job's step
   * summary at 1 MiB, so fifty chatty agents must not crowd the table out. Default 8000.
   */
  maxMessageChars?: number;
}

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
  const workspaces = Object.values(state.workspaces);
  const counts = countWorkspaces(state);
  const tally = (Object.keys(counts) as WorkspaceStatus[])
    .filter((status) => counts[status] > 0)
    .map((status) => `${counts[status]} ${status}`)
    .join(" · ");
  const tokens = totalTokens(
    workspaces.reduce(
      (sum, workspace) => addUsage(sum, workspace.agent.usage ?? NO_USAGE),
      NO_USAGE,
    ),
  );
  const wall = Math.max(
    0,
    Date.parse(state.finishedAt ?? state.updatedAt) - Date.parse(state.createdAt),
  );
  const shard = state.plan.selection.shard;
  const lines = [
    `## ${RUN_ICON[state.status]} conductor run ${code(state.runId)}: ${state.status}`,
    "",
    [
      tally === "" ? "no workspaces" : tally,
      `${formatTokens(tokens)} tokens`,
      formatDuration(wall),
      `plan ${code(state.plan.hash.slice(0, 12))}${shard === undefined ? "" : ` (shard ${shard.index}/${shard.count})`}`,
      `base ${code(state.plan.base.ref)} (${code(state.plan.base.commit.slice(0, 10))})`,
    ].join(" — "),
    "",
    "| Workspace | Status | Duration | Tokens | Files (+/−) | Check | Branch |",
    "| --- | --- | ---: | ---: | --- | --- | --- |",
    ...workspaces.map((workspace) => tableRow(state, workspace)),
  ];
  for (const workspace of workspaces) {
    const section = workspaceSection(workspace, maxMessageChars);
    if (section.length > 0) lines.push("", ...section);
  }
  return `${lines.join("\n")}\n`;
}

function tableRow(state: RunState, workspace: WorkspaceState): string {
  const planned = state.plan.workspaces.find((w) => w.name === workspace.name);
  const cells = [
    workspace.name,
    `${STATUS_ICON[workspace.status]} ${workspace.status}`,
    formatWorkspaceDuration(workspace),
    workspace.agent.usage === undefined ? "-" : formatTokens(totalTokens(workspace.agent.usage)),
    workspace.diff === undefined ? "-" : filesCell(workspace.diff),
    workspace.check ?? "-",
    planned === undefined ? "-" : code(planned.branch),
  ];
  return `| ${cells.map(cell).join(" | ")} |`;
}

function filesCell(diff: DiffStat): string {
  return `${diff.files} (+${diff.insertions} −${diff.deletions})`;
}

function workspaceSection(workspace: WorkspaceState, maxMessageChars: number): string[] {
  const body: string[] = [];
  if (workspace.failure !== undefined) {
    const log = failureLogPath(workspace.failure);
    body.push(
      `**${escapeInline(describeFailure(workspace.failure))}**${log === undefined ? "" : ` — log: ${code(log)}`}`,
      "",
    );
  }
  if (workspace.diff !== undefined) {
    const commit =
      workspace.commit === undefined ? "" : ` — commit ${code(workspace.commit.slice(0, 10))}`;
    body.push(`${diffStatLine(workspace.diff)}${commit}`, "");
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
