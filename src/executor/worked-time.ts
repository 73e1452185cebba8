import type { JudgeSession, RunState, StepRecord, WorkspaceState } from "./types.js";

/**
 * How long a run and its workspaces were worked on. A run is worked on in sessions (the run,
 * resumes, follow-ups) with idle time between them; its duration is the sessions summed, never
 * the time since it was created.
 */

/**
 * Time spent working on the run: its sessions summed, the one still going counted up to `now`
 * (a killed one up to its last event). States without sessions (older versions, merged CI
 * shards that ran side by side) count from creation to the end.
 */
export function runWorkedMs(state: RunState, now: Date = new Date(state.updatedAt)): number {
  const sessions = state.sessions;
  if (sessions === undefined || sessions.length === 0) {
    const end = state.finishedAt ?? state.updatedAt;
    return Math.max(0, Date.parse(end) - Date.parse(state.createdAt));
  }
  let total = 0;
  for (const [index, session] of sessions.entries()) {
    if (session.durationMs !== undefined) total += session.durationMs;
    else {
      const live = index === sessions.length - 1 && state.status === "running";
      const end = live ? now.getTime() : Date.parse(state.updatedAt);
      total += Math.max(0, end - Date.parse(session.startedAt));
    }
  }
  return total;
}

/** Time spent on a workspace: its finished sessions, plus the running one up to `now`. */
export function workspaceWorkedMs(workspace: WorkspaceState, now: Date): number | undefined {
  if (workspace.status !== "running" || workspace.startedAt === undefined) {
    return workspace.durationMs;
  }
  return (workspace.durationMs ?? 0) + Math.max(0, now.getTime() - Date.parse(workspace.startedAt));
}

/** Time of every execution of a step, the running one up to `now`; undefined if it never ran. */
export function stepWorkedMs(record: StepRecord | undefined, now: Date): number | undefined {
  if (record === undefined) return undefined;
  if (record.status !== "running") return record.totalMs ?? record.durationMs;
  return (record.totalMs ?? 0) + Math.max(0, now.getTime() - Date.parse(record.startedAt));
}

/** A judge session's agent time: what it recorded once it ended, up to `now` while it runs. */
export function judgeWorkedMs(session: JudgeSession, now: Date): number {
  if (session.agentTimeMs !== undefined) return session.agentTimeMs;
  return Math.max(0, now.getTime() - Date.parse(session.startedAt));
}
