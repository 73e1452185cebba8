import picomatch from "picomatch";
import { UsageError } from "../errors.js";
import { conductorCommand } from "../hint/command.js";
import type { Workspace } from "../planner/types.js";
import { didYouMeanSuffix } from "../schema/suggest.js";
import type { RunState, WorkspaceState } from "./types.js";

/** A workspace of a run, with the run that holds it. */
export interface FoundWorkspace {
  run: RunState;
  workspace: Workspace;
  state: WorkspaceState;
}

/**
 * Resolves workspace names and globs (`add-auth`, `fix-*`) inside one run, never another: a name
 * another run also has must not reach that run's workspace. Every pattern must match something;
 * unknown names fail with a suggestion.
 */
export function findWorkspaces(run: RunState, patterns: readonly string[]): FoundWorkspace[] {
  const all: FoundWorkspace[] = [];
  for (const workspace of run.plan.workspaces) {
    const state = run.workspaces[workspace.name];
    if (state) all.push({ run, workspace, state });
  }
  const names = all.map((entry) => entry.workspace.name);
  const found: FoundWorkspace[] = [];
  for (const pattern of patterns) {
    const isMatch = picomatch(pattern);
    const matches = all.filter((entry) => isMatch(entry.workspace.name));
    if (matches.length === 0) {
      throw new UsageError(
        `no workspace matches "${pattern}".${didYouMeanSuffix(pattern, names)}`,
        {
          hint: `\`${conductorCommand(["status", "--run", run.runId])}\` lists the workspaces of run ${run.runId}; \`${conductorCommand(["runs"])}\` lists the runs.`,
        },
      );
    }
    for (const entry of matches) if (!found.includes(entry)) found.push(entry);
  }
  return found;
}

/** Resolves exactly one workspace name of a run (no globs matching several). */
export function findWorkspace(run: RunState, name: string): FoundWorkspace {
  const found = findWorkspaces(run, [name]);
  if (found.length > 1) {
    throw new UsageError(
      `"${name}" matches ${found.length} workspaces (${found.map((f) => f.workspace.name).join(", ")}); name one`,
    );
  }
  return found[0] as FoundWorkspace;
}
