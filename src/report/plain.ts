import type { Reporter, RunEvent, StepResult } from "../executor/events.js";
import { spentUsage } from "../executor/spending.js";
import { countWorkspaces } from "../executor/state-fold.js";
import type { RunState, WorkspaceStatus } from "../executor/types.js";
import { formatDuration } from "../schema/duration.js";
import type { TokenUsage } from "../usage/usage.js";
import { budgetLine, describeStop } from "./budget-view.js";
import {
  describeActivity,
  describeFailure,
  describeReview,
  failedAfter,
  failureLogPath,
  formatDiff,
  formatTokens,
  formatWorkspaceDuration,
  STATUS_MARK,
  totalTokens,
} from "./format.js";
import { followRun } from "./run-view.js";
import { describeSeedPhase, describeSeedResult } from "./seed.js";
import { describeSelection } from "./selection.js";
import { renderTable } from "./table.js";

/** Options of {@link createPlainReporter}. */
export interface PlainReporterOptions {
  /** Receives the output, a whole line (ending in a newline) or block at a time. */
  write: (text: string) => void;
  /** Colour marks and statuses with ANSI escapes; off by default (CI logs, files). */
  color?: boolean;
  /** The state the run continues from (`--resume`), so the final table lists earlier results. */
  initialState?: RunState;
}

/**
 * The line-per-event view for CI and non-TTY output (`--output plain`): every line names its
 * workspace in brackets so logs can be grepped, and the run ends with a summary table.
 */
export function createPlainReporter(options: PlainReporterOptions): Reporter {
  const color = options.color === true;
  let state: RunState | undefined = options.initialState;
  return {
    onEvent(event) {
      state = followRun(state, event);
      const text = formatPlainEvent(event, state, color);
      if (text !== undefined) options.write(text);
    },
    close() {
      return Promise.resolve();
    },
  };
}

/**
 * Formats one event as the plain view prints it (without colour), or undefined for events the
 * view leaves out (token usage updates). `state` is the run state after the event; it supplies
 * the summary table at the end.
 */
export function formatPlainEvent(
  event: RunEvent,
  state: RunState | undefined,
  color = false,
): string | undefined {
  const paint = color ? colours : noColours;
  switch (event.type) {
    case "run.started": {
      const { plan } = event;
      const count = plan.workspaces.length;
      const resumed = event.resumed ? "resumed" : "started";
      return line(
        `conductor: run ${event.runId} ${resumed}: ${count} workspace${count === 1 ? "" : "s"}, ` +
          `concurrency ${event.concurrency}, plan ${plan.hash.slice(0, 12)}, ` +
          `base ${plan.base.ref} (${plan.base.commit.slice(0, 10)})`,
      );
    }
    case "follow-up.started":
      return line(`conductor: follow-up of ${event.workspace} in run ${event.runId}`);
    case "workspace.started":
      if (inFollowUp(state)) return tagged(event.workspace, "follow-up started");
      return tagged(event.workspace, event.try > 1 ? `started (try ${event.try})` : "started");
    case "step.started":
      return tagged(event.workspace, `${event.step} started`);
    case "workspace.waiting":
      // Prepared ahead of its slot: it is not stuck, it waits its turn.
      return tagged(event.workspace, "ready, waiting for a slot");
    case "step.finished": {
      const took = formatDuration(event.durationMs);
      if (event.status === "skipped") return tagged(event.workspace, `${event.step} skipped`);
      if (event.status === "failed") {
        const what =
          event.failure === undefined
            ? `${event.step} failed`
            : describeFailure(event.failure, "whole");
        const log = event.failure === undefined ? undefined : failureLogPath(event.failure);
        // A step cancelled by an interrupt did not fail on its own: mark it like the workspace.
        const mark =
          event.failure?.reason === "cancelled"
            ? paint.yellow(STATUS_MARK.interrupted)
            : paint.red(STATUS_MARK.failed);
        return tagged(
          event.workspace,
          `${mark} ${failedAfter(what, event.failure, took)}${log === undefined ? "" : ` — log: ${log}`}`,
        );
      }
      const detail = event.result === undefined ? "" : ` — ${describeResult(event.result)}`;
      return tagged(event.workspace, `${event.step} done in ${took}${detail}`);
    }
    case "step.output":
      // The step's log has its output; a CI log gets the step's outcome.
      return undefined;
    case "seed.phase":
      // `seeding node_modules from cache 3f2a…` names itself; waiting and filling need the step.
      return tagged(
        event.workspace,
        `${event.phase === "placing" ? "" : "seed: "}${describeSeedPhase(event)}`,
      );
    case "agent.activity":
      // Usage updates arrive after every turn; the agent step's result line carries the total.
      if (event.activity.kind === "usage") return undefined;
      return tagged(event.workspace, `agent: ${describeActivity(event.activity)}`);
    case "workspace.retrying":
      return tagged(
        event.workspace,
        `${paint.yellow("↻")} retrying ${event.step} (try ${event.try}) after ${describeFailure(event.failure, "whole")}`,
      );
    case "workspace.finished": {
      const took = formatDuration(event.durationMs);
      const mark = paint.status(event.status, STATUS_MARK[event.status]);
      const word = paint.status(event.status, event.status);
      const failure = event.failure ?? state?.workspaces[event.workspace]?.failure;
      switch (event.status) {
        case "succeeded":
          return tagged(event.workspace, `${mark} ${word} in ${took}`);
        case "failed": {
          const log = failure === undefined ? undefined : failureLogPath(failure);
          const why = failure === undefined ? "" : `: ${describeFailure(failure, "whole")}`;
          return tagged(
            event.workspace,
            `${mark} ${word} after ${took}${why}${log === undefined ? "" : ` — log: ${log}`}`,
          );
        }
        case "skipped":
          return tagged(
            event.workspace,
            `${mark} ${word}${failure === undefined ? "" : `: ${describeFailure(failure, "whole")}`}`,
          );
        case "interrupted": {
          const step = state?.workspaces[event.workspace]?.step;
          return tagged(
            event.workspace,
            `${mark} ${word}${step === undefined ? "" : ` during ${step}`} after ${took}`,
          );
        }
        default:
          return tagged(event.workspace, `${mark} ${word}`);
      }
    }
    case "workspace.archived":
      return tagged(
        event.workspace,
        `archived${event.branchDeleted ? ", branch deleted" : ", branch kept"}`,
      );
    case "selection.made":
      return tagged(event.task, describeSelection(event));
    case "review.started":
      return tagged(event.workspace, `review started (${event.reviewer})`);
    case "review.finished": {
      const mark =
        event.status === "failed"
          ? paint.red("✖")
          : event.verdict === "incorrect" || (event.counts?.[0] ?? 0) + (event.counts?.[1] ?? 0) > 0
            ? paint.yellow("!")
            : paint.status("succeeded", "✔");
      const log =
        event.failure !== undefined && "logPath" in event.failure && event.failure.logPath
          ? ` — log: ${event.failure.logPath}`
          : "";
      return tagged(
        event.workspace,
        `${mark} review: ${describeReview(event)} in ${formatDuration(event.durationMs)}${log}`,
      );
    }
    case "judge.started":
      // A judge may work for minutes: say what the run waits for.
      return tagged(event.task, `judge comparing ${event.asked.join(", ")} (a tie)`);
    case "judge.usage":
    case "judge.finished":
      // The winner line says what the judge did; the budget line counts what it spent.
      return undefined;
    case "run.interrupting":
      return line(`conductor: ${event.signal} received, stopping every workspace`);
    case "budget.reached": {
      const whose = event.scope === "run" ? "the run's budget" : `task ${event.task}'s budget`;
      const where = event.scope === "run" ? "" : ` of ${event.task}`;
      return line(
        `conductor: ${whose} is reached (${describeStop(event.reached)}): no new agent turns${where}; running ones are stopped in ${formatDuration(event.graceMs)}`,
      );
    }
    case "run.finished":
    case "follow-up.finished": {
      const head = line(sessionEndLine(event, color));
      return state === undefined ? head : `${head}\n${summaryTable(state, color)}`;
    }
    default: {
      // A compile error when an event type is added; at run time an unknown event (from a newer
      // events.jsonl) prints nothing rather than throwing into the executor.
      event satisfies never;
      return undefined;
    }
  }
}

/**
 * How a session ended, in one line: `conductor: run <id> succeeded in 4.2s: 3 succeeded`, or for
 * a follow-up `conductor: follow-up of <workspace> succeeded in 2.1s; run <id> succeeded: …`.
 */
export function sessionEndLine(
  event: Extract<RunEvent, { type: "run.finished" | "follow-up.finished" }>,
  color = false,
): string {
  const paint = color ? colours : noColours;
  const counts = Object.entries(event.counts)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${count} ${status}`)
    .join(", ");
  const tally = counts === "" ? "" : `: ${counts}`;
  const took = formatDuration(event.durationMs);
  if (event.type === "run.finished") {
    return `conductor: run ${event.runId} ${paint.run(event.status)} in ${took}${tally}`;
  }
  return `conductor: follow-up of ${event.workspace} ended in ${took}; run ${event.runId} is ${paint.run(event.status)}${tally}`;
}

/**
 * `3 workspaces: 2 succeeded, 1 failed, 0 skipped, 0 interrupted`: the last line of a run's
 * output. Pending and running workspaces (a run stopped before they started) are named only
 * when there are some, so that the counts always add up to the total.
 */
export function countsLine(state: RunState): string {
  const counts = countWorkspaces(state);
  const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
  const unfinished = (["running", "pending"] as const)
    .filter((status) => counts[status] > 0)
    .map((status) => `, ${counts[status]} ${status}`)
    .join("");
  return `${total} workspace${total === 1 ? "" : "s"}: ${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.interrupted} interrupted${unfinished}`;
}

/** Whether the state is in a follow-up session (`conductor continue`). */
export function inFollowUp(state: RunState | undefined): boolean {
  const session = state?.sessions?.at(-1);
  return session?.kind === "follow-up" && session.finishedAt === undefined;
}

/** The table printed at the end of a run: one row per workspace, in plan order. */
export function summaryTable(state: RunState, color = false): string {
  const paint = color ? colours : noColours;
  const rows = [
    ["WORKSPACE", "STATUS", "STEP", "DURATION", "TOKENS", "FILES", "CHECK"],
    ...Object.values(state.workspaces).map((workspace) => [
      workspace.name,
      paint.status(workspace.status, workspace.status),
      workspace.step ?? "-",
      formatWorkspaceDuration(workspace),
      tokensCell(spentUsage(workspace)),
      formatDiff(workspace.diff),
      workspace.check ?? "-",
    ]),
  ];
  const budget = budgetLine(state, new Date(state.updatedAt));
  return `${renderTable(rows)}\n${countsLine(state)}\n${budget === undefined ? "" : `${budget}\n`}`;
}

/** A workspace's tokens over all its agent turns, `-` when its agent reported none. */
export function tokensCell(usage: TokenUsage | undefined): string {
  return usage === undefined ? "-" : formatTokens(totalTokens(usage));
}

function describeResult(result: StepResult): string {
  switch (result.step) {
    case "worktree":
      return `branch ${result.branch} at ${result.path}`;
    case "copy":
      return `copied ${result.copied.length} file${result.copied.length === 1 ? "" : "s"}`;
    case "ports":
      return `port ${result.port}`;
    case "seed":
      return describeSeedResult(result);
    case "agent":
      return result.usage === undefined
        ? "no token usage reported"
        : `${formatTokens(totalTokens(result.usage))} tokens`;
    case "check":
      return result.passed ? "passed" : "failed";
    case "commit":
      if (result.commit === undefined) return "nothing to commit";
      // Older logs have no `created`: any commit they name was new.
      if (result.created === false) {
        return `nothing new to commit; the branch stays at ${result.commit.slice(0, 10)}`;
      }
      // The commit's own change; the branch's total is in the summary table.
      return `commit ${result.commit.slice(0, 10)} (${formatDiff(result.commitDiff ?? result.diff)})`;
    default:
      return "";
  }
}

/** Applies ANSI colours, or not. */
interface Painter {
  red(text: string): string;
  yellow(text: string): string;
  status(status: WorkspaceStatus, text: string): string;
  run(status: RunState["status"]): string;
}

const wrap = (code: number) => (text: string) => `\u001b[${code}m${text}\u001b[39m`;
const green = wrap(32);
const red = wrap(31);
const yellow = wrap(33);

const colours: Painter = {
  red,
  yellow,
  status(status, text) {
    if (status === "succeeded") return green(text);
    if (status === "failed") return red(text);
    if (status === "skipped" || status === "interrupted") return yellow(text);
    return text;
  },
  run(status) {
    if (status === "succeeded") return green(status);
    if (status === "failed") return red(status);
    if (status === "interrupted") return yellow(status);
    return status;
  },
};

const noColours: Painter = {
  red: (text) => text,
  yellow: (text) => text,
  status: (_status, text) => text,
  run: (status) => status,
};

function line(text: string): string {
  return `${text}\n`;
}

function tagged(workspace: string, text: string): string {
  return line(`[${workspace}] ${text}`);
}
