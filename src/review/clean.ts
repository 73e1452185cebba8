import { rm } from "node:fs/promises";
import path from "node:path";
import { UnsafeOperationError } from "../errors.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { loadRun } from "../executor/load-run.js";
import { releasePorts, reservedPorts } from "../executor/ports.js";
import {
  appendEvent,
  type CleanedWorkspace,
  listRunIds,
  RunPaths,
  recordCleaned,
} from "../executor/run-store.js";
import type { RunState } from "../executor/types.js";
import { branchExists, pruneWorktree, removeWorktree } from "../git/worktree.js";
import { describeLosses, losesWork, NO_LOSSES, whatWouldBeLost } from "./safety.js";
import { worktreePresence } from "./worktree-presence.js";

/** What `conductor clean` may do. */
export interface CleanOptions {
  /** Remove worktrees of archived workspaces even when they hold uncommitted changes. */
  force: boolean;
  homeDir: string;
  /** The runs to tidy up (ids); others are only read, to see what a later run reuses. */
  runIds: readonly string[];
}

/**
 * Tidies up after the archived and vanished workspaces of the given runs: git's records of their
 * worktrees whose folders are gone (no other worktree's), worktrees that reappeared after their workspace was archived,
 * port blocks still held for them, and the folders of runs whose every workspace is archived.
 * Vanished workspaces are recorded as archived. Branches are never deleted. Every removal of a
 * worktree is checked first; without `force`, one that would lose work stops the whole clean
 * before anything is removed. Runs still in progress are left alone. Returns what it did.
 */
export async function cleanRepository(root: string, options: CleanOptions): Promise<string[]> {
  const everyRun: RunState[] = [];
  // A damaged run folder must not stop the clean of every other run: it is named and skipped.
  const skipped: string[] = [];
  for (const runId of listRunIds(root)) {
    const run = await loadRun(root, runId).catch((error: Error) => {
      skipped.push(`skipped run ${runId}: ${error.message}`);
      return undefined;
    });
    if (run !== undefined) everyRun.push(run);
  }
  const runs = everyRun.filter(
    (run) => run.status !== "running" && options.runIds.includes(run.runId),
  );
  // A later run may reuse an archived workspace's name, and so its worktree path.
  const reusedLater = (run: RunState, workspacePath: string): boolean =>
    everyRun.some(
      (later) =>
        later.runId > run.runId &&
        later.plan.workspaces.some(
          (workspace) =>
            workspace.path === workspacePath &&
            later.workspaces[workspace.name]?.archived === undefined,
        ),
    );
  const archived: FoundWorkspace[] = [];
  const vanished: FoundWorkspace[] = [];
  const toRemove: FoundWorkspace[] = [];
  const unsafe: string[] = [];
  for (const run of runs) {
    for (const workspace of run.plan.workspaces) {
      const state = run.workspaces[workspace.name];
      if (state === undefined) continue;
      const found = { run, workspace, state };
      const presence = await worktreePresence(found);
      if (state.archived === undefined) {
        if (presence === "vanished") vanished.push(found);
        continue;
      }
      archived.push(found);
      if (presence !== "present" || reusedLater(run, workspace.path)) continue;
      const losses = options.force
        ? NO_LOSSES
        : await whatWouldBeLost(found, { worktreePresent: true, deleteBranch: false });
      if (losesWork(losses)) {
        unsafe.push(`${workspace.name} (${workspace.path}):`);
        unsafe.push(...(await describeLosses(found, losses)).map((line) => `  ${line}`));
      } else {
        toRemove.push(found);
      }
    }
  }
  if (unsafe.length > 0) {
    throw new UnsafeOperationError(
      `cleaning would lose work in worktrees of archived workspaces; nothing was removed:\n${unsafe.map((line) => `  ${line}`).join("\n")}`,
      { hint: "Commit or discard the changes, or pass --force to remove them anyway." },
    );
  }

  const done: string[] = [];
  for (const found of toRemove) {
    await removeWorktree(root, found.workspace.path, true);
    done.push(`removed worktree ${found.workspace.path} (${found.workspace.name}, archived)`);
  }
  // The records of these runs' missing worktrees only: a missing worktree of the user's own (on
  // a disk not mounted now, or moved by hand) keeps its record, and so its HEAD and repair.
  for (const found of [...archived, ...vanished]) {
    if (reusedLater(found.run, found.workspace.path)) continue; // a later run's record now
    for (const pruned of await pruneWorktree(root, found.workspace.path)) {
      done.push(`pruned git's record of the missing worktree ${pruned}`);
    }
  }
  for (const found of vanished) {
    appendEvent(new RunPaths(root, found.run.runId), {
      type: "workspace.archived",
      time: new Date().toISOString(),
      runId: found.run.runId,
      workspace: found.workspace.name,
      branchDeleted: false,
    });
    done.push(
      `marked ${found.workspace.name} archived: its worktree ${found.workspace.path} is gone (branch ${found.workspace.branch} kept)`,
    );
  }
  for (const found of [...archived, ...vanished]) {
    if (reusedLater(found.run, found.workspace.path)) continue; // the block is the later run's now
    const block = await reservedPorts(options.homeDir, found.workspace.path);
    if (block === undefined) continue;
    await releasePorts(options.homeDir, found.workspace.path);
    done.push(
      `freed ports ${block.start}-${block.start + block.count - 1} (${found.workspace.name})`,
    );
  }
  const gone = new Set([...archived, ...vanished]);
  for (const run of runs) {
    const all = run.plan.workspaces.every((workspace) =>
      [...gone].some((found) => found.run === run && found.workspace.name === workspace.name),
    );
    if (!all) continue;
    const dir = new RunPaths(root, run.runId).dir;
    // The branches stay: note whose they were, so that a new run of the same names keeps them.
    const kept: CleanedWorkspace[] = [];
    for (const workspace of run.plan.workspaces) {
      const archived = run.workspaces[workspace.name]?.archived;
      if (archived?.branchDeleted === true || archived?.keptAs !== undefined) continue;
      if (!(await branchExists(root, workspace.branch))) continue;
      kept.push({
        runId: run.runId,
        configFile: run.plan.configFile,
        workspace: workspace.name,
        branch: workspace.branch,
      });
    }
    await recordCleaned(root, kept);
    await rm(dir, { recursive: true, force: true });
    done.push(`removed run folder ${path.relative(root, dir)} (every workspace archived)`);
  }
  return [...skipped, ...done];
}
