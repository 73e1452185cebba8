import picomatch from "picomatch";
import { UsageError } from "../errors.js";
import type { Workspace } from "../planner/types.js";
import { didYouMeanSuffix } from "../schema/suggest.js";
import { loadRun } from "./load-run.js";
import { listRunIds, resolveRunId } from "./run-store.js";
import type { RunState, WorkspaceState } from "./types.js";

/** A workspace as found in the runs of a repository. */
export interface FoundWorkspace {
  /** The run that holds it (the newest one that has a workspace of that name). */
  run: RunState;
  workspace: Workspace;
  state: WorkspaceState;
}

/**
 * Resolves workspace names and globs (`add-auth`, `fix-*`) against the runs of the repository:
 * each name belongs to the newest run that has it (or to `runId` when given). Every pattern must
 * match something; unknown names fail with a suggestion.
 */
export async function findWorkspaces(
  root: string,
  patterns: readonly string[],
  runId?: string,
): Promise<FoundWorkspace[]> {
  // A given id may be a prefix, as `conductor status` takes it; an unknown one fails as such.
  const runIds = runId === undefined ? listRunIds(root).reverse() : [resolveRunId(root, runId)];
  if (runIds.length === 0) {
    throw new UsageError("there are no runs in this repository yet", {
      hint: "Start one with `conductor run`.",
    });
  }
  const newest = new Map<string, FoundWorkspace>();
  for (const id of runIds) {
    const run = await loadRun(root, id).catch(() => undefined);
    if (!run) continue;
    for (const workspace of run.plan.workspaces) {
      const state = run.workspaces[workspace.name];
      if (state && !newest.has(workspace.name))
        newest.set(workspace.name, { run, workspace, state });
    }
  }
  const names = [...newest.keys()];
  const found: FoundWorkspace[] = [];
  for (const pattern of patterns) {
    const isMatch = picomatch(pattern);
    const matches = names.filter((name) => isMatch(name));
    if (matches.length === 0) {
      throw new UsageError(
        `no workspace matches "${pattern}".${didYouMeanSuffix(pattern, names)}`,
        {
          hint: "`conductor status` lists the workspaces of the latest run.",
        },
      );
    }
    for (const name of matches) {
      const entry = newest.get(name) as FoundWorkspace;
      if (!found.includes(entry)) found.push(entry);
    }
  }
  return found;
}

/** Resolves exactly one workspace name (no globs matching several). */
export async function findWorkspace(
  root: string,
  name: string,
  runId?: string,
): Promise<FoundWorkspace> {
  const found = await findWorkspaces(root, [name], runId);
  if (found.length > 1) {
    throw new UsageError(
      `"${name}" matches ${found.length} workspaces (${found.map((f) => f.workspace.name).join(", ")}); name one`,
    );
  }
  return found[0] as FoundWorkspace;
}
