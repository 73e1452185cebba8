import type { RunEvent } from "../executor/events.js";
import type { RunState, WorkspaceState } from "../executor/types.js";

/**
 * What the page shows of a run: pure views of the folded state, so the server sends the page
 * what the CLI's own fold says (no second fold in the browser).
 */

/** A review's verdict as the sidebar shows it (from `review.json` in the workspace's folder). */
export interface ReviewMark {
  /** How the review ended (`failed`: the reviewer gave no usable answer). */
  status: "completed" | "failed" | "skipped";
  correct: boolean | undefined;
  /** Open findings by priority, P0 first. */
  byPriority: [number, number, number, number];
}

/** Facts about a workspace that live in files beside the events, not in them. */
export interface WorkspaceExtras {
  review?: ReviewMark | undefined;
  /** The port of its dev server while the page serves it. */
  servedPort?: number | undefined;
  /** The action the page is running on it now. */
  busy?: string | undefined;
}

/** One sidebar row. */
export interface WorkspaceRow {
  name: string;
  taskId: string;
  branch: string;
  path: string;
  status: WorkspaceState["status"];
  step: WorkspaceState["step"];
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  /** Time of finished sessions; a running one adds `now - startedAt`. */
  durationMs: number;
  tokens: number;
  check: WorkspaceState["check"];
  diff?: WorkspaceState["diff"];
  failure?: string | undefined;
  archived: boolean;
  lastActivity?: string | undefined;
  hasRunScript: boolean;
  review?: ReviewMark | undefined;
  winner: boolean;
  servedPort?: number | undefined;
  busy?: string | undefined;
}

/** The run as the page's header shows it. */
export interface RunSummary {
  runId: string;
  status: RunState["status"];
  createdAt: string;
  finishedAt?: string | undefined;
  configFile?: string | undefined;
  baseRef: string;
  root: string;
}

/** The whole page state: the run and every workspace, in plan order. */
export interface PageState {
  run: RunSummary;
  workspaces: WorkspaceRow[];
}

/** The run's header. */
export function runSummary(state: RunState): RunSummary {
  return {
    runId: state.runId,
    status: state.status,
    createdAt: state.createdAt,
    finishedAt: state.finishedAt,
    configFile: state.plan.configFile,
    baseRef: state.plan.base.ref,
    root: state.plan.repo.root,
  };
}

/** The sidebar row of one workspace. */
export function workspaceRow(
  state: RunState,
  name: string,
  extras: WorkspaceExtras = {},
): WorkspaceRow | undefined {
  const workspace = state.workspaces[name];
  const planned = state.plan.workspaces.find((entry) => entry.name === name);
  if (workspace === undefined || planned === undefined) return undefined;
  const usage = workspace.agent.usage;
  return {
    name,
    taskId: planned.taskId,
    branch: planned.branch,
    path: planned.path,
    status: workspace.status,
    step: workspace.step,
    startedAt: workspace.startedAt,
    finishedAt: workspace.finishedAt,
    durationMs: workspace.durationMs ?? 0,
    // Cached input is part of the input; reasoning is part of the output (as codex counts).
    tokens: usage === undefined ? 0 : usage.inputTokens + usage.outputTokens,
    check: workspace.check,
    diff: workspace.diff,
    failure: workspace.failure?.message,
    archived: workspace.archived !== undefined,
    lastActivity: describeActivity(workspace),
    hasRunScript: planned.scripts.run !== undefined,
    review: extras.review,
    // Best-of-N: the workspace its task's selection picked (by the run, a judge or `conductor pick`).
    winner: Object.values(state.selections ?? {}).some((selection) => selection.winner === name),
    servedPort: extras.servedPort,
    busy: extras.busy,
  };
}

/** Every row and the header. */
export function pageState(
  state: RunState,
  extras: (name: string) => WorkspaceExtras = () => ({}),
): PageState {
  return {
    run: runSummary(state),
    workspaces: state.plan.workspaces.flatMap(
      (planned) => workspaceRow(state, planned.name, extras(planned.name)) ?? [],
    ),
  };
}

/** The workspace an event is about, if any. */
export function eventWorkspace(event: RunEvent): string | undefined {
  return "workspace" in event ? event.workspace : undefined;
}

/** A line of the agent's latest activity, for a running row's subtitle. */
function describeActivity(workspace: WorkspaceState): string | undefined {
  const activity = workspace.agent.lastActivity;
  if (activity === undefined) return undefined;
  switch (activity.kind) {
    case "command":
      return `$ ${activity.command}`;
    case "file-change":
      return `edited ${activity.paths.join(", ")}`;
    case "message":
    case "reasoning":
      return activity.text.split("\n")[0];
    case "warning":
    case "error":
    case "connection-error":
      return activity.message;
    default:
      return undefined;
  }
}

/** One line of a workspace's activity timeline. */
export interface TimelineEntry {
  time: string;
  kind: "step" | "command" | "files" | "message" | "reasoning" | "problem" | "output" | "workspace";
  text: string;
  /** For steps and the workspace: how it ended. */
  status?: string | undefined;
}

/** The timeline line of an event, or undefined for events the timeline leaves out. */
export function timelineEntry(event: RunEvent): TimelineEntry | undefined {
  const time = event.time;
  switch (event.type) {
    case "workspace.started":
      return { time, kind: "workspace", text: `started (try ${event.try})` };
    case "follow-up.started":
      return { time, kind: "workspace", text: "follow-up started (conductor continue)" };
    case "workspace.waiting":
      return { time, kind: "workspace", text: "ready, waiting for a slot" };
    case "step.started":
      return { time, kind: "step", text: `${event.step} started`, status: "running" };
    case "step.finished":
      return {
        time,
        kind: "step",
        text: `${event.step} ${event.status} in ${formatMs(event.durationMs)}${event.failure ? `: ${event.failure.message}` : ""}`,
        status: event.status,
      };
    case "workspace.retrying":
      return {
        time,
        kind: "problem",
        text: `retrying ${event.step} (try ${event.try}): ${event.failure.message}`,
      };
    case "workspace.finished":
      return {
        time,
        kind: "workspace",
        text: `${event.status}${event.failure ? `: ${event.failure.message}` : ""}`,
        status: event.status,
      };
    case "workspace.archived":
      return { time, kind: "workspace", text: "archived", status: "archived" };
    case "step.output":
      return { time, kind: "output", text: `${event.step}: ${event.line}` };
    case "agent.activity": {
      const { activity } = event;
      switch (activity.kind) {
        case "command":
          return {
            time,
            kind: "command",
            text: `$ ${activity.command}${activity.exitCode === undefined ? "" : `  → exit ${activity.exitCode}`}`,
          };
        case "file-change":
          return { time, kind: "files", text: `changed ${activity.paths.join(", ")}` };
        case "message":
          return { time, kind: "message", text: activity.text };
        case "reasoning":
          return { time, kind: "reasoning", text: activity.text };
        case "warning":
        case "error":
        case "connection-error":
          return { time, kind: "problem", text: activity.message };
        default:
          return undefined; // session and usage are bookkeeping
      }
    }
    default:
      return undefined;
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
