import { readdirSync, readFileSync } from "node:fs";
import { RunPaths, runsDir } from "../executor/run-store.js";
import { samePath } from "../git/worktree.js";

/** The run and workspace a worktree belongs to, newest run first; undefined when none made it. */
export function worktreeOwner(
  root: string,
  worktree: string,
): { runId: string; workspace: string } | undefined {
  let runIds: string[];
  try {
    runIds = readdirSync(runsDir(root)).sort().reverse();
  } catch {
    return undefined;
  }
  for (const runId of runIds) {
    try {
      const state = JSON.parse(readFileSync(new RunPaths(root, runId).stateFile, "utf8")) as {
        plan?: { workspaces?: { name: string; path: string }[] };
      };
      const owner = state.plan?.workspaces?.find((entry) => samePath(entry.path, worktree));
      if (owner !== undefined) return { runId, workspace: owner.name };
    } catch {
      // A run folder without a readable state is no owner.
    }
  }
  return undefined;
}
