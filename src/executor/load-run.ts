import path from "node:path";
import { StateError } from "../errors.js";
import { readProcFile } from "../process/proc-file.js";
import { interruptRunning } from "./interrupt-running.js";
import { eventProblem, stateProblem } from "./record-check.js";
import { recordValueProblem } from "./record-values.js";
import { RunPaths, readEventLines, readRunState } from "./run-store.js";
import { applyEvents, initialRunState } from "./state-fold.js";
import type { RunState } from "./types.js";

/** Reads the run `runId` of the repository at `root` (see {@link loadRunFolder}). */
export function loadRun(root: string, runId: string): Promise<RunState> {
  return loadRunFolder(new RunPaths(root, runId).dir);
}

/**
 * Reads a run from its folder as it stands, also one still in progress, one whose conductor was
 * killed, or one copied from another machine (a CI shard). The events log is the source of truth
 * (run.json may lag by a moment); run.json is the fallback when the log is missing. A run whose
 * process is gone while it claims to be running is reported as interrupted, with its running
 * workspaces interrupted too.
 */
export async function loadRunFolder(dir: string): Promise<RunState> {
  const eventsFile = path.join(dir, "events.jsonl");
  const lines = await readEventLines(eventsFile);
  const first = lines[0]?.event;
  let state: RunState;
  let source: string;
  if (first?.type === "run.started") {
    source = eventsFile;
    // Every event is checked before any is folded: the fold and every reader after it trust
    // the values they switch on, and a forged one must end here, named, not in a crash.
    for (const { line, event } of lines) {
      const problem = eventProblem(event);
      if (problem !== undefined) throw damaged(dir, `${eventsFile}, line ${line}: ${problem}`);
    }
    try {
      assertRunShape({ runId: first.runId, plan: first.plan, workspaces: {} }, dir);
      const initial = initialRunState({
        runId: first.runId,
        plan: first.plan,
        createdAt: first.time,
        pid: first.pid,
      });
      state = applyEvents(
        initial,
        lines.map((entry) => entry.event),
      );
    } catch (error) {
      if (error instanceof StateError) throw error;
      // The fold refuses events it cannot place (another run's, an unknown workspace's).
      const message = (error as Error).message.replace(/^internal error: /, "");
      throw damaged(dir, `${eventsFile}: ${message}`);
    }
  } else {
    source = path.join(dir, "run.json");
    state = await readRunState(source);
  }
  assertRunShape(state, dir);
  const problem =
    stateProblem(state as unknown as Record<string, unknown>) ?? recordValueProblem(state);
  if (problem !== undefined) throw damaged(dir, `${source}: ${problem}`);
  return state.status === "running" && !isConductorAlive(state.pid) ? abandoned(state) : state;
}

/** The error of a run folder whose record conductor cannot read: which file, what is wrong. */
function damaged(dir: string, problem: string): StateError {
  return new StateError(`the run in ${dir} is damaged: ${problem}`, {
    hint: `Move the folder away if it is not a run: mv '${dir}' '${dir}.damaged'`,
  });
}

/**
 * A run folder whose state is valid JSON of another shape (edited by hand, written by another
 * tool) is refused here, as a damaged run naming its folder, instead of crashing whatever reads
 * it; commands that read every run skip it.
 */
function assertRunShape(state: unknown, dir: string): asserts state is RunState {
  const run = state as Partial<Record<keyof RunState, unknown>> | null;
  const plan = run?.plan as { workspaces?: unknown; repo?: unknown } | null | undefined;
  const problem =
    typeof run !== "object" || run === null || Array.isArray(run)
      ? "it is not an object"
      : typeof run.runId !== "string"
        ? "it has no run id"
        : typeof plan !== "object" || plan === null || !Array.isArray(plan.workspaces)
          ? "it has no plan with workspaces"
          : typeof plan.repo !== "object" || plan.repo === null
            ? "its plan names no repository"
            : typeof run.workspaces !== "object" ||
                run.workspaces === null ||
                Array.isArray(run.workspaces)
              ? "it has no workspace states"
              : undefined;
  if (problem !== undefined) throw damaged(dir, problem);
}

/** Whether a run's conductor is still at work: its state says running and its process lives. */
export function isRunLive(run: Pick<RunState, "status" | "pid">): boolean {
  return run.status === "running" && isConductorAlive(run.pid);
}

/** Whether `pid` is a live process that can be a conductor (a node process). */
export function isConductorAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readProcFile(`/proc/${pid}/cmdline`).includes("node");
  } catch {
    return true; // no /proc: trust the signal check
  }
}

/**
 * A run whose conductor is gone as it was left: interrupted, with its running workspaces
 * interrupted too (also used for run folders loaded by path, e.g. CI shards, and live views).
 */
export function abandoned(state: RunState): RunState {
  const workspaces = interruptRunning(state.workspaces, (workspace) => ({
    failure: {
      reason: "cancelled",
      step: workspace.step ?? "worktree",
      message: "conductor stopped while this workspace was running",
    },
  }));
  return { ...state, status: "interrupted", workspaces };
}
