import type { Plan, StartPoint } from "./types.js";

/**
 * What differs between a run's plan and the plan made now, as short phrases a person can check
 * (`from: feature of task t1 moved (ee37adf54f → 54ba885f82)`): a plan whose file is unchanged
 * still changes when the base or a `from:`/`pr:` ref moves, and "conductor.yaml differs" would
 * send the user to the wrong place. Empty when nothing nameable differs (the caller then names
 * the file and the prompt files in general).
 */
export function planChanges(before: Plan, now: Plan): string[] {
  const changes: string[] = [];
  if (before.base.commit !== now.base.commit) {
    changes.push(
      `the base ${now.base.ref} moved (${short(before.base.commit)} → ${short(now.base.commit)})`,
    );
  }
  const earlier = new Map(before.workspaces.map((workspace) => [workspace.name, workspace]));
  const namedStarts = new Set<string>();
  for (const workspace of now.workspaces) {
    const then = earlier.get(workspace.name);
    if (then === undefined) continue;
    const moved = movedStart(then.startPoint, workspace.startPoint);
    // Attempts of one task share their start: one line per task.
    const line = moved === undefined ? undefined : `${moved} of task ${workspace.taskId}`;
    if (line !== undefined && !namedStarts.has(line)) {
      namedStarts.add(line);
      changes.push(`${line} ${movedBy(then.startPoint, workspace.startPoint)}`);
    }
  }
  const added = now.workspaces.filter((workspace) => !earlier.has(workspace.name));
  const kept = new Set(now.workspaces.map((workspace) => workspace.name));
  const removed = before.workspaces.filter((workspace) => !kept.has(workspace.name));
  if (added.length > 0) changes.push(`new workspaces ${names(added)}`);
  if (removed.length > 0) changes.push(`no more workspaces ${names(removed)}`);
  const prompts = now.workspaces.filter((workspace) => {
    const then = earlier.get(workspace.name);
    return then !== undefined && then.prompt !== workspace.prompt;
  });
  if (prompts.length > 0) changes.push(`the prompt of ${names(prompts)}`);
  return changes;
}

/** `from: feature` / `pr: 7` when the same start now names another commit. */
function movedStart(then: StartPoint, now: StartPoint): string | undefined {
  if (then.kind === "ref" && now.kind === "ref" && then.ref === now.ref) {
    return then.commit === now.commit ? undefined : `from: ${now.ref}`;
  }
  if (then.kind === "pull-request" && now.kind === "pull-request" && then.number === now.number) {
    return then.commit === now.commit ? undefined : `pr: ${now.number}`;
  }
  return undefined;
}

function movedBy(then: StartPoint, now: StartPoint): string {
  const commit = (start: StartPoint) => ("commit" in start ? short(start.commit) : "?");
  return `moved (${commit(then)} → ${commit(now)})`;
}

function names(workspaces: readonly { name: string }[]): string {
  return workspaces.map((workspace) => workspace.name).join(", ");
}

function short(commit: string): string {
  return commit.slice(0, 10);
}
