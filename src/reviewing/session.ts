import { existsSync } from "node:fs";
import os from "node:os";
import { StateError } from "../errors.js";
import type { Reporter } from "../executor/events.js";
import { isRunLive } from "../executor/load-run.js";
import { RunRecorder } from "../executor/recorder.js";
import { runSecrets } from "../executor/run-secrets.js";
import { RunPaths } from "../executor/run-store.js";
import type { ReviewState, RunState } from "../executor/types.js";
import { guardWorktreeLink } from "../executor/worktree-link-check.js";
import { conductorCommand } from "../hint/command.js";
import type { Workspace } from "../planner/types.js";
import { reviewWorkspace } from "./review-workspace.js";

/** What `conductor review` (or a web page) needs to review workspaces of a finished run. */
export interface ReviewSessionOptions {
  /** The run, as loaded. */
  previous: RunState;
  /** Names of the workspaces to review (already resolved). */
  workspaces: readonly string[];
  reporters: readonly Reporter[];
  interrupt: AbortSignal;
  /** Reviews at once; default the run's concurrency, else the number of CPUs. */
  concurrency?: number | undefined;
}

/** The reviews by workspace, and the run state with them recorded. */
export interface ReviewSessionResult {
  state: RunState;
  paths: RunPaths;
  reviews: Map<string, ReviewState>;
}

/**
 * Reviews workspaces of a run, at most `concurrency` at once, recording each review as events
 * of the run (so `status` and reports show it) and as `review.json`/`review.md`. Refuses, before
 * anything starts, workspaces a live run is working on and ones without a worktree; puts back
 * worktree links changed since their run checked them.
 */
export async function reviewSession(options: ReviewSessionOptions): Promise<ReviewSessionResult> {
  const { previous } = options;
  const workspaces = options.workspaces.map((name) => reviewable(previous, name));
  // The reviewer runs git there, as conductor does before and after it.
  for (const workspace of workspaces) {
    await guardWorktreeLink({
      root: previous.plan.repo.root,
      runId: previous.runId,
      name: workspace.name,
      path: workspace.path,
    });
  }
  const paths = new RunPaths(previous.plan.repo.root, previous.runId);
  const secrets = await runSecrets(previous.plan);
  const recorder = new RunRecorder(paths, previous, options.reporters, secrets);
  const ctx = { plan: previous.plan, paths, recorder, secrets };
  const reviews = new Map<string, ReviewState>();
  const limit = Math.max(
    1,
    options.concurrency ?? previous.plan.concurrency ?? os.availableParallelism(),
  );
  const queue = [...workspaces];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (options.interrupt.aborted) return;
      reviews.set(next.name, await reviewWorkspace(ctx, next, options.interrupt));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker));
  // In the order asked for, whichever finished first.
  const ordered = new Map(
    workspaces.flatMap((workspace) => {
      const review = reviews.get(workspace.name);
      return review === undefined ? [] : [[workspace.name, review] as const];
    }),
  );
  await recorder.flush().catch((error: Error) => {
    throw new StateError(`could not write the run state to ${paths.stateFile}: ${error.message}`);
  });
  return { state: recorder.state, paths, reviews: ordered };
}

/** The workspace, when it can be reviewed now; a StateError saying why not otherwise. */
function reviewable(run: RunState, name: string): Workspace {
  const workspace = run.plan.workspaces.find((candidate) => candidate.name === name);
  const state = run.workspaces[name];
  if (workspace === undefined || state === undefined) {
    throw new StateError(`run ${run.runId} has no workspace ${name}`);
  }
  const live = isRunLive(run);
  if (live && (state.status === "running" || state.status === "pending")) {
    throw new StateError(
      `run ${run.runId} is still working on ${name}; review it when it has finished`,
    );
  }
  if (!state.worktreeCreated || state.archived !== undefined || !existsSync(workspace.path)) {
    throw new StateError(`workspace ${name} has no worktree to review (${workspace.path})`, {
      hint: `It never started or was archived; \`${conductorCommand(["status", "--run", run.runId])}\` shows the workspaces.`,
    });
  }
  if (state.startCommit === undefined) {
    throw new StateError(`workspace ${name} has no start commit to review against`);
  }
  return workspace;
}
