import type { RunEvent } from "../executor/events.js";
import { applyEvent, initialRunState } from "../executor/state-fold.js";
import type { RunState } from "../executor/types.js";

/**
 * A reporter's own view of the run: the fold of the events it has seen, starting at
 * `run.started`. A reporter must never throw into the executor, so an event the fold rejects (an
 * executor bug, which the state writer reports) leaves the view as it was.
 */
export function followRun(state: RunState | undefined, event: RunEvent): RunState | undefined {
  try {
    const base =
      state ??
      (event.type === "run.started"
        ? initialRunState({ runId: event.runId, plan: event.plan, createdAt: event.time, pid: 0 })
        : undefined);
    return base === undefined ? undefined : applyEvent(base, event);
  } catch {
    return state;
  }
}
