import os from "node:os";
import { ExitCode, InterruptedError } from "../errors.js";
import type { Reporter } from "../executor/events.js";
import { RunPaths, STATE_DIR_NAME } from "../executor/run-store.js";
import type { FailureMode } from "../executor/scheduler.js";
import {
  askSessionFacts,
  runSession,
  type SessionFacts,
  type SessionResult,
} from "../executor/session.js";
import type { RunState } from "../executor/types.js";
import { localBranches, uncommittedPaths } from "../git/worktree.js";
import { conductorCommand, currentInvocation } from "../hint/command.js";
import { reviewReaderOf } from "../merge/review-rank.js";
import type { Plan } from "../planner/types.js";
import { endIdleReapers } from "../process/reaper-pool.js";
import { endIdleShells } from "../process/shell-pool.js";
import { describeStop } from "../report/budget-view.js";
import { writeRunReports } from "../report/files.js";
import { sharedCauseLine } from "../report/shared-cause.js";
import { archiveLosers } from "../review/losers.js";
import { nextSteps } from "../review/next-steps.js";
import { describeKept, makeRoomForNewRun } from "../review/rerun.js";
import { autoReview } from "./auto-review.js";
import { interruptOnSignals } from "./interrupt.js";
import { type OutputMode, reporterFor } from "./output.js";
import { displayPath } from "./project.js";
import { markSessionRan } from "./session-ran.js";

/**
 * Runs a session (a run, a resume, a follow-up) with live progress, Ctrl-C handling and the
 * end-of-run reports; returns the final state. The first SIGINT/SIGTERM stops gracefully, a
 * second one exits at once.
 */
export async function withLiveProgress(
  output: OutputMode,
  previous: RunState | undefined,
  session: (reporters: Reporter[], interrupt: AbortSignal) => Promise<SessionResult>,
): Promise<RunState> {
  const interrupt = interruptOnSignals((signal) => {
    process.stderr.write(
      `\nconductor: ${signal}: cancelling running work and saving state (press Ctrl-C again to exit at once)\n`,
    );
  });
  const reporter = await reporterFor(output, previous);
  let result: SessionResult;
  try {
    result = await session([reporter], interrupt.signal);
  } finally {
    // The shells of the session's git scripts, and the reapers of its programs, end while the
    // reports are written.
    endIdleShells();
    endIdleReapers();
    // Also when the session failed: the live view must settle its rows and give the terminal back.
    await reporter.close();
    interrupt.dispose();
  }
  writeRunReports(result.paths, result.state);
  markSessionRan();
  return result.state;
}

/** How `run` and `demo` execute a plan. */
export interface ExecuteOptions {
  plan: Plan;
  output: OutputMode;
  concurrency?: number | undefined;
  failureMode: FailureMode;
  previous?: RunState | undefined;
  /**
   * Settles when the run may start (preflight); its error comes first. Git's read-only start-up
   * questions go out meanwhile, but nothing is printed or changed before it settled.
   */
  ready?: Promise<void>;
}

/**
 * Executes a plan as a new or resumed run (see {@link withLiveProgress}). A new run first takes
 * over the branch names of earlier finished runs, keeping their work on refs.
 */
export async function executePlan(options: ExecuteOptions): Promise<RunState> {
  const asked = Promise.all([
    dirtyCheckoutWarning(options.plan),
    options.previous === undefined ? localBranches(options.plan.repo.root) : undefined,
  ]);
  // The session's own read-only questions go out with these, not after the preflight.
  const facts = askSessionFacts(options.plan);
  void asked.catch(() => undefined); // awaited below, after `ready`, whose error comes first
  await options.ready;
  const [warning, branches] = await asked;
  if (warning !== undefined) process.stderr.write(`${warning}\n`);
  // The session's own check for branches in the way reuses this listing, and the session the
  // facts asked with it, unless room was made (archive scripts ran meanwhile).
  let sessionBranches: ReadonlySet<string> | undefined;
  let sessionFacts: SessionFacts | undefined = facts;
  if (options.previous === undefined) {
    // Retiring earlier workspaces runs their archive scripts: Ctrl-C must end them and stop here.
    const interrupt = interruptOnSignals((signal) => {
      process.stderr.write(
        `\nconductor: ${signal}: stopping before this run starts (press Ctrl-C again to exit at once)\n`,
      );
    });
    try {
      const kept = await makeRoomForNewRun(options.plan, {
        homeDir: os.homedir(),
        signal: interrupt.signal,
        ...(branches === undefined ? {} : { branches }),
      });
      for (const run of kept) process.stderr.write(`${describeKept(run)}\n`);
      if (kept.length === 0) sessionBranches = branches;
      else sessionFacts = undefined;
      if (interrupt.signal.aborted) {
        throw new InterruptedError(
          "interrupted while making room for the new run; it did not start",
        );
      }
    } finally {
      interrupt.dispose();
    }
  }
  const afterSuccess = await autoReview(options.plan);
  const state = await withLiveProgress(options.output, options.previous, (reporters, interrupt) =>
    runSession({
      plan: options.plan,
      runId: options.plan.runId as string,
      reporters,
      interrupt,
      concurrency: options.concurrency ?? options.plan.concurrency,
      failureMode: options.failureMode,
      homeDir: os.homedir(),
      previous: options.previous,
      reviewOf: reviewReaderOf(options.plan.repo.root, options.plan.runId as string),
      afterSuccess,
      branches: sessionBranches,
      facts: sessionFacts,
    }),
  );
  await archiveLosersOf(state);
  return state;
}

/**
 * `select.archive_losers: true`: once a task has its winner, its other workspaces are archived
 * with their branches kept as refs. A loser that cannot be archived (uncommitted changes) stays,
 * with a warning; the run's outcome does not change.
 */
async function archiveLosersOf(state: RunState): Promise<void> {
  const tasks = new Set(
    (state.plan.selections ?? [])
      .filter(
        (selection) => selection.archiveLosers && state.selections?.[selection.taskId]?.winner,
      )
      .map((selection) => selection.taskId),
  );
  if (tasks.size === 0 || state.status === "interrupted") return;
  try {
    const results = await archiveLosers(state, {
      force: false,
      homeDir: os.homedir(),
      signal: new AbortController().signal,
      onlyTasks: tasks,
    });
    for (const result of results) {
      process.stderr.write(
        `conductor: archived ${result.name}, which lost${result.keptAs === undefined ? "" : `; its branch is kept as ${result.keptAs}`}\n`,
      );
    }
  } catch (error) {
    process.stderr.write(
      `conductor: warning: the losers were not archived: ${(error as Error).message}\n`,
    );
  }
}

/**
 * Workspaces start from the base commit: edits not committed in the main checkout are not in
 * them, and people expect them to be. Says how many, in one line (undefined when there are none).
 */
async function dirtyCheckoutWarning(plan: Plan): Promise<string | undefined> {
  const changed = await uncommittedPaths(plan.repo.root, [`${STATE_DIR_NAME}/runs`]);
  if (changed.length === 0) return undefined;
  const files = changed.length === 1 ? "1 changed file" : `${changed.length} changed files`;
  return (
    `conductor: warning: ${files} of the main checkout ${changed.length === 1 ? "is" : "are"} not included in the workspaces, ` +
    `which start from ${plan.base.ref} (${plan.base.commit.slice(0, 10)}); commit ${changed.length === 1 ? "it" : "them"} there to include ${changed.length === 1 ? "it" : "them"}`
  );
}

/**
 * Prints what to do next and returns the exit code for a finished run. With `--output json`
 * stdout holds only the events, one JSON object a line, so the sentences go to stderr.
 */
export function finishRun(state: RunState, output: OutputMode): number {
  // A path that works from where the user is: relative to a subfolder they started in, whole
  // after -C (conductor has changed folder since; where the user is, it no longer knows).
  const dir = new RunPaths(state.plan.repo.root, state.runId).dir;
  const where = currentInvocation().cwd === undefined ? displayPath(process.cwd(), dir) : dir;
  const say = (text: string) => (output === "json" ? process.stderr : process.stdout).write(text);
  // A shard is one of several runs of the same file, often one after another in one checkout:
  // the latest run, which hints read by default, is soon another shard's.
  const namedRun = state.plan.selection.shard !== undefined;
  const run = namedRun ? ["--run", state.runId] : [];
  switch (state.status) {
    case "succeeded":
      say(
        `\nRun ${state.runId} succeeded. Review with \`${conductorCommand(["status", ...run])}\`; state in ${where}\n`,
      );
      return ExitCode.Success;
    case "interrupted":
      process.stderr.write(
        `\nRun ${state.runId} was interrupted. Continue it with \`${conductorCommand(["run", "--resume", state.runId])}\`\n`,
      );
      return ExitCode.Interrupted;
    default: {
      const stop = state.budgetReached?.run;
      if (stop !== undefined) {
        process.stderr.write(
          `\nconductor: run ${state.runId} stopped at its budget (${describeStop(stop)}); reason: budget. ` +
            `Nothing is lost: unfinished work stays in the worktrees. Raise budget.${stop.limit} in the config and continue with \`${conductorCommand(["run", "--resume", state.runId])}\`\n`,
        );
      }
      const shared = sharedCauseLine(state);
      if (shared !== undefined) process.stderr.write(`\nconductor: ${shared}\n`);
      say(`\nRun ${state.runId} finished with failures.\n${nextSteps(state, { namedRun })}`);
      return ExitCode.WorkFailed;
    }
  }
}
