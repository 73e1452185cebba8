import { readFileSync } from "node:fs";
import path from "node:path";
import { StateError } from "../errors.js";
import { RunPaths, readEvents, readRunState } from "./run-store.js";
import { applyEvents, initialRunState } from "./state-fold.js";
import type { RunState, WorkspaceState } from "./types.js";

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
  const events = await readEvents(path.join(dir, "events.jsonl"));
  const first = events[0];
  let state: RunState;
  if (first?.type === "run.started") {
    const initial = initialRunState({
      runId: first.runId,
      plan: first.plan,
      createdAt: first.time,
      pid: first.pid,
    });
    try {
      state = applyEvents(initial, events);
    } catch (error) {
      throw new StateError(`the events log of ${dir} is damaged: ${(error as Error).message}`);
    }
  } else {
    state = await readRunState(path.join(dir, "run.json"));
  }
  return state.status === "running" && !isConductorAlive(state.pid) ? abandoned(state) : state;
}

/** Whether `pid` is a live process that can be a conductor (a node process). */
export function isConductorAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").includes("node");
  } catch {
    return true; // no /proc: trust the signal check
  }
}

/**
 * A run whose conductor is gone as it was left: interrupted, with its running workspaces
 * interrupted too (also used for run folders loaded by path, e.g. CI shards).
 */
function abandoned(state: RunState): RunState {
  const workspaces: Record<string, WorkspaceState> = {};
  for (const [name, workspace] of Object.entries(state.workspaces)) {
    workspaces[name] =
      workspace.status === "running"
        ? {
            ...workspace,
            status: "interrupted",
            failure: {
              reason: "cancelled",
              step: workspace.step ?? "worktree",
              message: "conductor stopped while this workspace was running",
            },
          }
        : workspace;
  }
  return { ...state, status: "interrupted", workspaces };
}
