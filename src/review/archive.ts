import { appendFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { InterruptedError, OperationError, StateError, UnsafeOperationError } from "../errors.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { endWorkspaceProcesses } from "../executor/leftovers.js";
import { isRunLive } from "../executor/load-run.js";
import { releasePorts, reservedPorts } from "../executor/ports.js";
import { appendEvent, RunPaths } from "../executor/run-store.js";
import { guardWorktreeLink, worktreeOf } from "../executor/worktree-link-check.js";
import { isInside } from "../fs/is-inside.js";
import {
  branchExists,
  git,
  pruneWorktree,
  removeWorktree,
  unlockMissingPendingCheckout,
} from "../git/worktree.js";
import { describeOutcome } from "../process/outcome.js";
import { runProcess } from "../process/run.js";
import { describeLosses, losesWork, whatWouldBeLost } from "./safety.js";
import { scriptEnv, scriptRedactor } from "./workspace-process.js";
import { type WorktreePresence, worktreePresence } from "./worktree-presence.js";

/** How `conductor archive` treats the workspaces it is given. */
export interface ArchiveOptions {
  /** Delete the branch too (refused when it holds commits found nowhere else). */
  deleteBranch: boolean;
  /** Archive even when uncommitted changes or unmerged commits would be lost. */
  force: boolean;
  homeDir: string;
  /** Cancels a running archive script (Ctrl-C). */
  signal: AbortSignal;
}

/** A workspace that passed the checks, with what was found on disk. */
export interface ArchiveCandidate {
  found: FoundWorkspace;
  presence: WorktreePresence;
}

/** What archiving one workspace did, for the report line. */
export interface ArchiveResult {
  name: string;
  archiveScript: "ran" | "failed-forced" | "none";
  removedWorktree: string | undefined;
  freedPorts: { start: number; count: number } | undefined;
  branch: string;
  branchDeleted: boolean;
  /** The branch is the user's own (a `branch:` task), so it was kept whatever was asked. */
  branchIsUsers: boolean;
}

/** A `branch:` task continues the user's own branch: conductor never deletes it. */
export function isUsersBranch(workspace: { startPoint: { kind: string } }): boolean {
  return workspace.startPoint.kind === "branch";
}

/**
 * Checks every workspace before anything is removed, so a refusal leaves all of them as they
 * were: a workspace of a run still working on it, a path that is no longer our worktree, or
 * (without `force`) work that would be lost. Throws listing every problem.
 */
export async function checkArchivable(
  found: readonly FoundWorkspace[],
  options: Pick<ArchiveOptions, "deleteBranch" | "force">,
): Promise<ArchiveCandidate[]> {
  const candidates: ArchiveCandidate[] = [];
  const blocked: string[] = [];
  const unsafe: string[] = [];
  for (const entry of found) {
    const { workspace, state, run } = entry;
    const live = isRunLive(run);
    if (live && (state.status === "running" || state.status === "pending")) {
      blocked.push(`${workspace.name}: run ${run.runId} is still working on it`);
      continue;
    }
    if (containsPath(workspace.path, run.plan.repo.root)) {
      blocked.push(`${workspace.name}: its path ${workspace.path} holds the main checkout`);
      continue;
    }
    const presence = await worktreePresence(entry);
    if (presence === "foreign") {
      blocked.push(
        `${workspace.name}: ${workspace.path} is not a worktree of this repository; conductor leaves it alone`,
      );
      continue;
    }
    // Its archive script and the look at what would be lost run git there, and `git worktree
    // remove` refuses a worktree whose .git does not point back (with --force too).
    if (presence === "present") await guardWorktreeLink(worktreeOf(entry));
    if (!options.force) {
      const losses = await whatWouldBeLost(entry, {
        worktreePresent: presence === "present",
        deleteBranch: options.deleteBranch && !isUsersBranch(workspace),
      });
      if (losesWork(losses)) {
        unsafe.push(`${workspace.name} (${workspace.path}):`);
        unsafe.push(...(await describeLosses(entry, losses)).map((line) => `  ${line}`));
        continue;
      }
    }
    candidates.push({ found: entry, presence });
  }
  if (blocked.length > 0) {
    throw new StateError(
      `cannot archive ${blocked.length === 1 ? "a workspace" : "these workspaces"}; nothing was removed:\n${blocked.map((line) => `  ${line}`).join("\n")}`,
    );
  }
  if (unsafe.length > 0) {
    throw new UnsafeOperationError(
      `archiving would lose work; nothing was removed:\n${unsafe.map((line) => `  ${line}`).join("\n")}`,
      {
        hint: "Commit or discard the changes (or push the branch), or pass --force to archive anyway.",
      },
    );
  }
  return candidates;
}

/**
 * Archives one checked workspace: its archive script, then the worktree, its port block and
 * (when asked) its branch, and records a `workspace.archived` event in its run. A failing
 * archive script stops it before anything is removed, unless `force`.
 */
export async function archiveWorkspace(
  candidate: ArchiveCandidate,
  options: ArchiveOptions,
): Promise<ArchiveResult> {
  const { found, presence } = candidate;
  const { workspace, run } = found;
  const root = run.plan.repo.root;
  const paths = new RunPaths(root, run.runId);
  const block = await reservedPorts(options.homeDir, workspace.path);
  let archiveScript: ArchiveResult["archiveScript"] = "none";
  if (presence === "present" && workspace.scripts.archive !== undefined) {
    // Looked at again right before: a daemon of the workspace may still be running.
    await guardWorktreeLink(worktreeOf(found));
    const ran = await runArchiveScript(candidate, block?.start ?? found.state.port, options);
    if (options.signal.aborted) {
      throw new InterruptedError(
        `archiving ${workspace.name} was interrupted; nothing was removed`,
      );
    }
    if (ran !== undefined && !options.force) {
      throw new OperationError(
        `the archive script of ${workspace.name} ${ran}; ${workspace.name} was not archived`,
        {
          hint: `See ${paths.logFile(workspace.name, "archive")}; pass --force to archive anyway.`,
        },
      );
    }
    archiveScript = ran === undefined ? "ran" : "failed-forced";
  }
  // Nothing may keep running in a worktree that goes away: a daemon a killed conductor left
  // behind, a dev server still served from it.
  await endWorkspaceProcesses(run.runId, workspace.name);
  // The checks above stand for git's own: copied files and .context/ make git call the worktree
  // dirty, but they are copies, so the removal is forced once nothing of value is left in it.
  if (presence === "present") await removeWorktree(root, workspace.path, true);
  else {
    // A folder gone before its checkout was done (a conductor killed while making it) is still
    // locked for that checkout, and no prune would take it.
    await unlockMissingPendingCheckout(root, workspace.path);
    // Its own record only: other missing worktrees (the user's) are not this archive's.
    await pruneWorktree(root, workspace.path);
  }
  await releasePorts(options.homeDir, workspace.path);
  const branchIsUsers = isUsersBranch(workspace);
  const deleteBranch =
    options.deleteBranch && !branchIsUsers && (await branchExists(root, workspace.branch));
  if (deleteBranch) await git(root, ["branch", "-D", "--end-of-options", workspace.branch]);
  appendEvent(paths, {
    type: "workspace.archived",
    time: new Date().toISOString(),
    runId: run.runId,
    workspace: workspace.name,
    branchDeleted: deleteBranch || found.state.archived?.branchDeleted === true,
  });
  return {
    name: workspace.name,
    archiveScript,
    removedWorktree: presence === "present" ? workspace.path : undefined,
    freedPorts: block === undefined ? undefined : { start: block.start, count: block.count },
    branch: workspace.branch,
    branchDeleted: deleteBranch,
    branchIsUsers,
  };
}

/** Runs the archive script in the worktree; returns how it failed, or undefined on success. */
async function runArchiveScript(
  candidate: ArchiveCandidate,
  port: number | undefined,
  options: ArchiveOptions,
): Promise<string | undefined> {
  const { found } = candidate;
  const { workspace, run } = found;
  const script = workspace.scripts.archive as string;
  const logFile = new RunPaths(run.plan.repo.root, run.runId).logFile(workspace.name, "archive");
  await mkdir(path.dirname(logFile), { recursive: true });
  await appendFile(logFile, `$ ${script}\n`);
  const outcome = await runProcess({
    file: script,
    shell: true,
    cwd: workspace.path,
    env: scriptEnv(found, port),
    signal: options.signal,
    timeoutMs: workspace.scriptTimeoutMs,
    logFile,
    redactor: await scriptRedactor(found),
  });
  return outcome.reason === "exited" ? undefined : describeOutcome(outcome);
}

/** Whether `outer` is `inner` or one of its parent folders. */
function containsPath(outer: string, inner: string): boolean {
  return isInside(outer, inner);
}
