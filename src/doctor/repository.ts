/** Checks of the repository's own state: stale worktrees, leftover processes, info/exclude. */
import { readFile } from "node:fs/promises";
import { SERVE_MARKER_VARIABLE } from "../executor/leftovers.js";
import { isRunLive } from "../executor/load-run.js";
import { listRunIds, RunPaths, readRunState } from "../executor/run-store.js";
import { git, listWorktrees } from "../git/worktree.js";
import { shellCommand } from "../hint/shell-quote.js";
import { type CheckResult, result } from "../preflight/check.js";
import { markedProcessGroups } from "../process/groups.js";

/** The line conductor keeps in `info/exclude`: its run state, never the whole `.conductor/`. */
export const EXCLUDE_ENTRY = "/.conductor/runs/";

/** Worktrees git still lists whose folders were deleted by hand. */
export async function staleWorktreesCheck(root: string): Promise<CheckResult> {
  const check = "stale worktrees";
  const stale = (await listWorktrees(root)).filter((entry) => entry.prunable);
  if (stale.length === 0) return result(check, "ok", "every registered worktree exists");
  const list = stale.map((entry) => `${entry.path}${entry.branch ? ` (${entry.branch})` : ""}`);
  return result(
    check,
    "warn",
    `${stale.length} worktree(s) registered in git but missing on disk: ${list.join(", ")}; their branches cannot be checked out elsewhere`,
    shellCommand(["git", "-C", root, "worktree", "prune"]),
  );
}

/**
 * Processes still running from runs whose conductor is gone (killed with SIGKILL, a closed
 * terminal): they hold ports and CPU. A live run's processes and a reviewer's `serve` are not
 * leftovers.
 */
export async function leftoverProcessesCheck(root: string): Promise<CheckResult> {
  const check = "leftover processes";
  const served = new Set(await markedProcessGroups(`${SERVE_MARKER_VARIABLE}=1`));
  const found: { runId: string; groups: number[] }[] = [];
  for (const runId of listRunIds(root)) {
    const state = await readRunState(new RunPaths(root, runId).stateFile).catch(() => undefined);
    if (state !== undefined && isRunLive(state)) continue;
    const groups = (await markedProcessGroups(`CONDUCTOR_RUN_ID=${runId}`)).filter(
      (group) => !served.has(group),
    );
    if (groups.length > 0) found.push({ runId, groups });
  }
  if (found.length === 0) return result(check, "ok", "none");
  const groups = found.flatMap((entry) => entry.groups);
  return result(
    check,
    "warn",
    `${groups.length} process group(s) of ended runs still running: ${found
      .map((entry) => `run ${entry.runId} (${entry.groups.map((g) => `-${g}`).join(" ")})`)
      .join(", ")}`,
    `kill -TERM ${groups.map((group) => `-${group}`).join(" ")}`,
  );
}

/** Whether `info/exclude` keeps conductor's run state out of git, and nothing more. */
export async function excludeCheck(root: string): Promise<CheckResult> {
  const check = "git exclude";
  const file = (
    await git(root, ["rev-parse", "--path-format=absolute", "--git-path", "info/exclude"])
  ).trim();
  const lines = (await readFile(file, "utf8").catch(() => ""))
    .split("\n")
    .map((line) => line.trim());
  if (lines.includes("/.conductor/") || lines.includes("/.conductor")) {
    return result(
      check,
      "warn",
      `${file} excludes all of /.conductor/, which also hides the Conductor app's committed .conductor/settings.toml`,
      `replace the line /.conductor/ with ${EXCLUDE_ENTRY} in ${file}`,
    );
  }
  if (lines.includes(EXCLUDE_ENTRY)) return result(check, "ok", `${file} has ${EXCLUDE_ENTRY}`);
  return result(check, "info", `${file} has no ${EXCLUDE_ENTRY} yet; the first run adds it`);
}
