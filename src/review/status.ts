import { spentUsage } from "../executor/spending.js";
import type { RunState, Step, WorkspaceState } from "../executor/types.js";
import { stepWorkedMs, workspaceWorkedMs } from "../executor/worked-time.js";
import { conductorCommand, placeholder } from "../hint/command.js";
import { budgetLine } from "../report/budget-view.js";
import { formatDiff, formatFindingCounts } from "../report/format.js";
import { tokensCell } from "../report/plain.js";
import { describeSelection } from "../report/selection.js";
import { renderTable } from "../report/table.js";
import { formatDuration } from "../schema/duration.js";
import { nextSteps } from "./next-steps.js";

/** Whether the run's conductor is alive, and the clock, for {@link renderStatus}. */
export interface StatusContext {
  live: boolean;
  now: Date;
  /** The run was named with --run: hints name it too. */
  namedRun?: boolean;
  /**
   * Workspaces whose worktree was made and is gone from the disk since, though not archived
   * (removed by hand): the state alone would still show their path as if it held the work.
   */
  goneWorktrees?: ReadonlySet<string>;
}

/**
 * `conductor status` as text: a header line (run, status, plan, base), one row per workspace in
 * plan order, and what to do next for an interrupted or failed run.
 */
export function renderStatus(state: RunState, context: StatusContext): string {
  const { plan } = state;
  const count = plan.workspaces.length;
  const status =
    state.status === "running" && context.live ? `running (live, pid ${state.pid})` : state.status;
  const shard = plan.selection.shard;
  const header = [
    `run ${state.runId}`,
    status,
    `plan ${plan.hash.slice(0, 12)}${shard ? ` (shard ${shard.index}/${shard.count})` : ""}`,
    `base ${plan.base.ref} (${plan.base.commit.slice(0, 10)})`,
    `${count} workspace${count === 1 ? "" : "s"}`,
  ].join(" — ");
  const rows = [
    [
      "WORKSPACE",
      "STATUS",
      "STEP",
      "DURATION",
      TIMED_STEPS.join("/").toUpperCase(),
      "TOKENS",
      "FILES",
      "CHECK",
      "REVIEW",
      "BRANCH",
      "PATH",
    ],
  ];
  for (const planned of plan.workspaces) {
    const workspace = state.workspaces[planned.name];
    if (workspace === undefined) continue;
    const archived = workspace.archived !== undefined;
    rows.push([
      planned.name,
      archived ? "archived" : workspace.status,
      workspace.step ?? "-",
      duration(workspace, context.now),
      stepTimes(workspace, context.now),
      tokensCell(spentUsage(workspace)),
      formatDiff(workspace.diff),
      workspace.check ?? "-",
      reviewCell(workspace),
      keptBranch(workspace, planned.branch),
      archived ? "(removed)" : context.goneWorktrees?.has(planned.name) ? "(gone)" : planned.path,
    ]);
  }
  const budget = budgetLine(state, context.now);
  return `${header}\n\n${renderTable(rows)}\n${budget === undefined ? "" : `${budget}\n`}${selectionLines(state)}${goneLines(state, context)}${whatNext(state, context)}`;
}

/** What to do about worktrees removed outside conductor: `clean` records them as archived. */
function goneLines(state: RunState, context: StatusContext): string {
  const gone = state.plan.workspaces.filter((ws) => context.goneWorktrees?.has(ws.name));
  if (gone.length === 0) return "";
  const lines = gone.map(
    (ws) => `${ws.name}: its worktree ${ws.path} is gone; its branch ${ws.branch} is kept\n`,
  );
  const clean = conductorCommand(["clean", "--run", state.runId]);
  return `\n${lines.join("")}\`${clean}\` records ${gone.length === 1 ? "it" : "them"} as archived and frees ${gone.length === 1 ? "its" : "their"} ports.\n`;
}

/**
 * One line per task that picks a winner: `fix-average: winner: fix-average-2 — passed check, …`,
 * or what it waits for.
 */
function selectionLines(state: RunState): string {
  const lines = (state.plan.selections ?? []).map((selection) => {
    const record = state.selections?.[selection.taskId];
    const text =
      record === undefined
        ? `select ${selection.mode} of ${selection.candidates.length} candidates: not picked yet`
        : describeSelection(record);
    return `${selection.taskId}: ${text}\n`;
  });
  return lines.length === 0 ? "" : `\n${lines.join("")}`;
}

/** The branch column: where the branch went when it is no longer at its name. */
function keptBranch(workspace: WorkspaceState, branch: string): string {
  if (workspace.archived?.keptAs !== undefined) return workspace.archived.keptAs;
  return workspace.archived?.branchDeleted ? "(deleted)" : branch;
}

/** `incorrect: 1 P1, 1 P3`, `correct: no findings`, `failed`, `skipped`, or `-` when never reviewed. */
function reviewCell(workspace: WorkspaceState): string {
  const review = workspace.review;
  if (review === undefined) return "-";
  if (review.status !== "completed") return review.status;
  const verdict =
    review.verdict === undefined || review.verdict === "unknown" ? "no verdict" : review.verdict;
  return `${verdict}: ${formatFindingCounts(review.counts)}`;
}

/** The steps whose time people ask about; the others take milliseconds. */
const TIMED_STEPS: readonly Step[] = ["setup", "agent", "check", "commit"];

/**
 * Time spent on a workspace, summed over its sessions; a running one's time so far, marked with
 * an ellipsis.
 */
function duration(workspace: WorkspaceState, now: Date): string {
  const ms = workspaceWorkedMs(workspace, now);
  if (ms === undefined) return "-";
  return `${formatDuration(ms)}${workspace.status === "running" ? "…" : ""}`;
}

/**
 * `1.2s/40s/3.1s/90ms`: each timed step's time (every execution of it summed), `-` for one that
 * did not run, an ellipsis on the one running now.
 */
function stepTimes(workspace: WorkspaceState, now: Date): string {
  return TIMED_STEPS.map((step) => {
    const record = workspace.steps[step];
    const ms = stepWorkedMs(record, now);
    if (ms === undefined || record?.status === "skipped") return "-";
    return `${formatDuration(ms)}${record?.status === "running" ? "…" : ""}`;
  }).join("/");
}

function whatNext(state: RunState, context: StatusContext): string {
  if (state.status === "running" && context.live) {
    return `\nFollow a workspace with \`${conductorCommand(["logs", placeholder("<workspace>"), "--follow", ...(context.namedRun ? ["--run", state.runId] : [])])}\`\n`;
  }
  return nextSteps(state, { namedRun: context.namedRun === true });
}
