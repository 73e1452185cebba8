import { Listr, type ListrTask } from "listr2";
import type { Reporter, RunEvent } from "../executor/events.js";
import { spentUsage } from "../executor/spending.js";
import type { RunState, Step, WorkspaceState } from "../executor/types.js";
import { formatDuration } from "../schema/duration.js";
import { budgetLine, budgetProgress } from "./budget-view.js";
import {
  describeActivity,
  describeFailure,
  failedAfter,
  failureLogPath,
  formatDiff,
  formatTokens,
  oneLine,
  totalTokens,
} from "./format.js";
import { countsLine, inFollowUp, sessionEndLine } from "./plain.js";
import { followRun } from "./run-view.js";
import { describeSeedPhase } from "./seed.js";

/** Options of {@link createLiveReporter}. */
export interface LiveReporterOptions {
  /**
   * The listr2 renderer: `default` for a terminal (it falls back to `simple` by itself when the
   * output is not a TTY), `test` to log every change as JSON (tests), `silent` for nothing.
   */
  renderer?: "default" | "simple" | "test" | "silent";
  /** Renderer options handed to listr2, e.g. a `logger` that writes somewhere else. */
  rendererOptions?: Record<string, unknown>;
  /** How often running rows refresh their elapsed time, in ms; 0 turns it off. Default 1000. */
  refreshMs?: number;
  /** The clock for elapsed times; tests fix it. Default `Date.now`. */
  now?: () => number;
  /**
   * The state the run continues from (`--resume`): workspaces that succeeded earlier get no
   * events this time and show as done from the start.
   */
  initialState?: RunState;
  /**
   * Receives the lines printed after the rows are done: how the run ended and its counts, as the
   * plain view ends. Default: standard output.
   */
  write?: (text: string) => void;
  /** Colour the run's status in those lines. */
  color?: boolean;
}

/** The session-ending events, which the last lines describe. */
type SessionEnd = Extract<RunEvent, { type: "run.finished" | "follow-up.finished" }>;

/** How a row ends in listr2: completed (✔), skipped, or failed (✖) with the text as its message. */
type RowEnd = { kind: "completed" | "skipped" | "failed"; text: string };

/** The part of listr2's task wrapper a row needs. */
interface TaskHandle {
  title: string;
  output: string;
  skip(message?: string): void;
}

interface Row {
  name: string;
  task: TaskHandle | undefined;
  title: string | undefined;
  output: string | undefined;
  /** The latest line the running script printed, and which step's. */
  scriptLine: { step: Step; line: string } | undefined;
  /** The step a prepared workspace waits to start until it has a slot of the concurrency limit. */
  waitingForSlot: Step | undefined;
  /** How long this session worked on the workspace, once it finished. */
  tookMs: number | undefined;
  ended: boolean;
  end(how: RowEnd): void;
  done: Promise<RowEnd>;
}

/**
 * The live view for terminals: a listr2 list with one row per workspace showing its current
 * step, elapsed time and that step's own output (the agent's last activity, a script's latest
 * line); finished rows show ✔/✖ with their duration or failure. When the rows are done it
 * prints how the run ended and the counts, like the plain view. Listr2 is driven by tasks, so each row is a task whose promise settles when its
 * workspace finishes; `close()` settles the rest, so an interrupted run never leaves it waiting.
 */
export function createLiveReporter(options: LiveReporterOptions = {}): Reporter {
  return new LiveReporter(options);
}

class LiveReporter implements Reporter {
  private state: RunState | undefined;
  private readonly rows = new Map<string, Row>();
  private nameWidth = 0;
  private listr: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private ending: SessionEnd | undefined;
  private readonly now: () => number;

  constructor(private readonly options: LiveReporterOptions) {
    this.now = options.now ?? Date.now;
    this.state = options.initialState;
  }

  onEvent(event: RunEvent): void {
    if (this.closed) return;
    try {
      this.state = followRun(this.state, event);
      if (event.type === "run.started") this.start();
      // A follow-up works on one workspace: the others keep their outcome and get no row.
      if (event.type === "follow-up.started") this.start([event.workspace]);
      if (event.type === "run.finished" || event.type === "follow-up.finished") {
        this.ending = event;
      }
      if ("workspace" in event) {
        const row = this.rows.get(event.workspace);
        if (row === undefined) return;
        if (event.type === "step.started") {
          row.scriptLine = undefined;
          row.waitingForSlot = undefined;
        }
        if (event.type === "workspace.waiting") row.waitingForSlot = event.step;
        if (event.type === "step.output") {
          row.scriptLine = { step: event.step, line: event.line };
        }
        if (event.type === "seed.phase") {
          row.scriptLine = { step: "seed", line: describeSeedPhase(event) };
        }
        if (event.type === "workspace.finished") {
          row.tookMs = event.durationMs;
          row.end(this.finishedEnd(row.name));
          // Rows waiting for this workspace now wait for less.
          for (const other of this.rows.values()) this.paint(other);
        } else {
          this.paint(row);
        }
        if ([...this.rows.values()].every((r) => r.ended)) this.stopTicking();
      }
    } catch {
      // A live view must never take the run down; the state file and logs keep the truth.
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopTicking();
    for (const row of this.rows.values()) if (!row.ended) row.end(this.unfinishedEnd(row.name));
    const started = this.listr !== undefined;
    await this.listr;
    if (started && this.state !== undefined) this.printEnding(this.state);
  }

  /** The last lines, below the rows: how the session ended, and the counts of the whole run. */
  private printEnding(state: RunState): void {
    const write = this.options.write ?? ((text: string) => process.stdout.write(text));
    const color = this.options.color === true;
    const head = this.ending === undefined ? "" : `${sessionEndLine(this.ending, color)}\n`;
    try {
      const budget = budgetLine(state, new Date(state.updatedAt));
      write(`${head}${countsLine(state)}\n${budget === undefined ? "" : `${budget}\n`}`);
    } catch {
      // The terminal went away; the state file and reports have the outcome.
    }
  }

  private start(only?: readonly string[]): void {
    const state = this.state;
    if (this.listr !== undefined || state === undefined) return;
    const names = only ?? Object.keys(state.workspaces);
    this.nameWidth = Math.max(0, ...names.map((name) => name.length));
    const tasks: ListrTask[] = names.map((name) => {
      const row = newRow(name);
      row.title = this.titleOf(name);
      this.rows.set(name, row);
      return {
        title: row.title,
        task: async (_context, task) => {
          row.task = task;
          this.paint(row);
          const how = await row.done;
          // The title too, for renderers that print titles rather than messages (simple).
          task.title = how.text;
          if (how.kind === "failed") throw new Error(how.text);
          if (how.kind === "skipped") task.skip(how.text);
        },
      };
    });
    const listr = new Listr(tasks, {
      concurrent: true,
      // One failed workspace must not stop the other rows (the executor decides about fail-fast).
      exitOnError: false,
      // The executor owns SIGINT; listr2's own handler would exit the process.
      registerSignalListeners: false,
      renderer: this.options.renderer ?? "default",
      fallbackRenderer: "simple",
      ...(this.options.rendererOptions === undefined
        ? {}
        : { rendererOptions: this.options.rendererOptions }),
    } as ConstructorParameters<typeof Listr>[1]);
    this.listr = listr.run().then(
      () => undefined,
      () => undefined,
    );
    // On resume, what succeeded before is not run again and sends no events.
    for (const row of this.rows.values()) {
      if (state.workspaces[row.name]?.status === "succeeded") row.end(this.finishedEnd(row.name));
    }
    const refreshMs = this.options.refreshMs ?? 1000;
    if (refreshMs > 0) {
      this.timer = setInterval(() => this.tick(), refreshMs);
      // The view must not keep the process alive on its own.
      this.timer.unref();
    }
  }

  private tick(): void {
    for (const row of this.rows.values()) if (!row.ended) this.paint(row);
  }

  private stopTicking(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Brings a running row's title and output up to date; only changes reach the renderer. */
  private paint(row: Row): void {
    if (row.task === undefined || row.ended) return;
    // Output first: the renderer may draw on each change, and a new step's title must not be
    // drawn over the previous step's output.
    const output = this.outputOf(row.name);
    if (output !== undefined && output !== row.output) {
      row.output = output;
      row.task.output = output;
    }
    const title = this.titleOf(row.name);
    if (title !== row.title) {
      row.title = title;
      row.task.title = title;
    }
  }

  private workspace(name: string): WorkspaceState | undefined {
    return this.state?.workspaces[name];
  }

  private label(name: string): string {
    return name.padEnd(this.nameWidth);
  }

  private titleOf(name: string): string {
    const workspace = this.workspace(name);
    if (workspace === undefined || workspace.status === "pending") {
      const waitingFor = this.state?.plan.workspaces
        .find((planned) => planned.name === name)
        ?.dependsOn.filter((dependency) => this.workspace(dependency)?.status !== "succeeded");
      return waitingFor !== undefined && waitingFor.length > 0
        ? `${this.label(name)}  waiting for ${waitingFor.join(", ")}`
        : `${this.label(name)}  waiting`;
    }
    const started = workspace.startedAt === undefined ? undefined : Date.parse(workspace.startedAt);
    const elapsed =
      started === undefined ? "" : `  ${formatDuration(Math.max(0, this.now() - started))}`;
    // A follow-up is one more turn, not another try at the task.
    const attempt = inFollowUp(this.state)
      ? " (follow-up)"
      : workspace.tries > 1
        ? ` (try ${workspace.tries})`
        : "";
    // Prepared ahead of its slot: it waits its turn, it is not stuck in its ports step.
    const slotWait = this.rows.get(name)?.waitingForSlot;
    if (slotWait !== undefined && workspace.status === "running") {
      return `${this.label(name)}  ready, waiting for a slot${attempt}${elapsed}`;
    }
    return `${this.label(name)}  ${workspace.step ?? "starting"}${attempt}${elapsed}`;
  }

  /**
   * The running step's own output: `agent: running npm test · 12.3k tokens` while the agent
   * works, `check: ✓ 12 tests passed` (the script's latest line) during setup and check, nothing
   * during steps that print nothing: the agent's last words are not news during the check.
   */
  private outputOf(name: string): string | undefined {
    const workspace = this.workspace(name);
    if (workspace === undefined || workspace.status !== "running") return undefined;
    const step = workspace.step;
    if (step === "agent") {
      const { agent } = workspace;
      const parts: string[] = [];
      if (agent.lastActivity !== undefined)
        parts.push(`agent: ${describeActivity(agent.lastActivity)}`);
      if (agent.usage !== undefined) parts.push(`${formatTokens(totalTokens(agent.usage))} tokens`);
      const budget = this.state === undefined ? undefined : budgetProgress(this.state, new Date());
      if (budget !== undefined) parts.push(budget);
      return parts.join(" · ");
    }
    const script = this.rows.get(name)?.scriptLine;
    if (script !== undefined && script.step === step) {
      return `${step}: ${oneLine(script.line, 160)}`;
    }
    return "";
  }

  private finishedEnd(name: string): RowEnd {
    const workspace = this.workspace(name);
    const label = this.label(name);
    if (workspace === undefined) return { kind: "failed", text: `${label}  state unknown` };
    // This session's time (a follow-up's own); a row done in an earlier session shows its total.
    const took = formatDuration(this.rows.get(name)?.tookMs ?? workspace.durationMs ?? 0);
    const failure = workspace.failure;
    switch (workspace.status) {
      case "succeeded": {
        const parts = [took];
        const spent = spentUsage(workspace);
        if (spent !== undefined) parts.push(`${formatTokens(totalTokens(spent))} tokens`);
        if (workspace.diff !== undefined) parts.push(formatDiff(workspace.diff));
        return { kind: "completed", text: `${label}  ${parts.join(" · ")}` };
      }
      case "failed": {
        const why = failure === undefined ? "failed" : describeFailure(failure);
        const log = failure === undefined ? undefined : failureLogPath(failure);
        return {
          kind: "failed",
          text: `${label}  ${failedAfter(why, failure, took)}${log === undefined ? "" : ` — log: ${log}`}`,
        };
      }
      case "skipped":
        return {
          kind: "skipped",
          text: `${label}  skipped${failure === undefined ? "" : `: ${describeFailure(failure)}`}`,
        };
      case "interrupted":
        return {
          kind: "failed",
          text: `${label}  interrupted${workspace.step === undefined ? "" : ` during ${workspace.step}`} after ${took}`,
        };
      default:
        return this.unfinishedEnd(name);
    }
  }

  /** How a row ends when the events stopped before its workspace finished (interrupt, crash). */
  private unfinishedEnd(name: string): RowEnd {
    const workspace = this.workspace(name);
    const label = this.label(name);
    if (workspace === undefined || workspace.status === "pending") {
      return { kind: "skipped", text: `${label}  not started` };
    }
    if (workspace.status !== "running") return this.finishedEnd(name);
    const started = workspace.startedAt === undefined ? undefined : Date.parse(workspace.startedAt);
    const after =
      started === undefined ? "" : ` after ${formatDuration(Math.max(0, this.now() - started))}`;
    return {
      kind: "failed",
      text: `${label}  stopped${workspace.step === undefined ? "" : ` during ${workspace.step}`}${after}`,
    };
  }
}

function newRow(name: string): Row {
  let settle: (how: RowEnd) => void = () => {};
  const done = new Promise<RowEnd>((resolve) => {
    settle = resolve;
  });
  const row: Row = {
    name,
    task: undefined,
    title: undefined,
    output: undefined,
    scriptLine: undefined,
    waitingForSlot: undefined,
    tookMs: undefined,
    ended: false,
    done,
    end(how) {
      if (row.ended) return;
      row.ended = true;
      settle(how);
    },
  };
  return row;
}
