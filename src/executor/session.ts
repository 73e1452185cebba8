import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { agentFor } from "../agents/index.js";
import { StateError, UsageError, WorkspaceConflictError } from "../errors.js";
import { CheckoutHook } from "../git/checkout-hook.js";
import { askCommitIdentity, type CommitIdentity } from "../git/commit-identity.js";
import { ensureExcluded, GitMetadataQueue, localBranches } from "../git/worktree.js";
import { conductorCommand } from "../hint/command.js";
import { winnerBranchHolders } from "../planner/selections.js";
import type { Plan } from "../planner/types.js";
import { prestartReapers } from "../process/reaper-pool.js";
import type { KnownSecrets } from "../secrets/known-secrets.js";
import { monotonicMs } from "../timers/monotonic.js";
import { archivedHint } from "./archived-hint.js";
import { BudgetGuard } from "./budget-guard.js";
import type { Reporter } from "./events.js";
import { endLeftoverProcesses } from "./leftovers.js";
import { RunRecorder } from "./recorder.js";
import { RefLedger } from "./ref-ledger.js";
import { runSecrets } from "./run-secrets.js";
import { RunPaths, STATE_DIR_NAME } from "./run-store.js";
import { executeRun, type FailureMode, runStatus } from "./scheduler.js";
import type { ReviewReader } from "./selection/facts.js";
import { countWorkspaces, initialRunState } from "./state-fold.js";
import { reserveRunPorts } from "./steps/ports.js";
import type { RunState } from "./types.js";
import { type AfterSuccess, type RunContext, runWorkspace } from "./workspace-runner.js";
import { guardWorktreeLink } from "./worktree-link-check.js";

/** What starting or resuming a run needs. */
export interface SessionOptions {
  plan: Plan;
  runId: string;
  reporters: readonly Reporter[];
  interrupt: AbortSignal;
  concurrency?: number | undefined;
  failureMode: FailureMode;
  homeDir: string;
  /** The state of the run being resumed. */
  previous?: RunState | undefined;
  /** Reads candidates' review verdicts for best-of-N rankings. */
  reviewOf?: ReviewReader | undefined;
  /** Runs after each workspace that succeeded (the reviewing agent with `review: auto`). */
  afterSuccess?: AfterSuccess | undefined;
  /** The local branches, listed by the caller just before (nothing it did changed them since). */
  branches?: ReadonlySet<string> | undefined;
  /** {@link askSessionFacts} of the plan, asked by the caller just before (on the same terms). */
  facts?: SessionFacts | undefined;
}

/**
 * What a session reads of the repository before its first event: how git's add would make a
 * worktree there, and the secrets the run knows. Both only read, so a caller can ask while it
 * waits for something else (the preflight, the listing of branches) and hand them over.
 */
export interface SessionFacts {
  checkoutHook: CheckoutHook;
  secrets: Promise<KnownSecrets>;
  /** Who conductor's commits are by, as git says before any agent or script has run. */
  commitIdentity: Promise<CommitIdentity>;
}

/** Asks for the {@link SessionFacts} of `plan`; an answer that failed fails the session that uses it. */
export function askSessionFacts(plan: Plan): SessionFacts {
  const checkoutHook = new CheckoutHook(plan.repo.root);
  checkoutHook.find().catch(() => undefined); // asked again by the first add if it failed
  const secrets = runSecrets(plan);
  secrets.catch(() => undefined); // the session awaits it, or it is not needed
  const commitIdentity = askCommitIdentity(plan.repo.root);
  commitIdentity.catch(() => undefined); // the first commit awaits it
  return { checkoutHook, secrets, commitIdentity };
}

/** Result of a run session. */
export interface SessionResult {
  state: RunState;
  paths: RunPaths;
}

/**
 * Executes a plan as a run: prepares the state folder, checks that nothing of a new run already
 * exists, then runs the scheduler and waits until the state is on disk.
 */
export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const { plan } = options;
  const paths = new RunPaths(plan.repo.root, options.runId);
  // Asked now at the latest, beside the listing below: the first worktree needs the checkout
  // hook's answer (how git's add would make it), and it would otherwise hold that worktree up.
  const facts = options.facts ?? askSessionFacts(plan);
  const { checkoutHook, secrets: knownSecrets, commitIdentity } = facts;
  // One listing of the branches serves the whole run: the conflict check here, and each
  // workspace's check before its worktree is added.
  const [branches, secrets] = await Promise.all([
    options.branches ?? localBranches(plan.repo.root),
    knownSecrets,
  ]);
  if (options.previous === undefined) assertNothingExists(plan, branches);
  else await endLeftoverProcesses(options.runId);
  await Promise.all([
    ensureExcluded(plan.repo.root, [`/${STATE_DIR_NAME}/runs/`], [`/${STATE_DIR_NAME}/`]),
    options.previous === undefined ? claimRunFolder(paths) : undefined,
  ]);

  const initial =
    options.previous ??
    initialRunState({
      runId: options.runId,
      plan,
      createdAt: new Date().toISOString(),
      pid: process.pid,
    });
  const recorder = new RunRecorder(paths, { ...initial, plan }, options.reporters, secrets);
  const concurrency =
    options.concurrency ?? plan.concurrency ?? Math.max(1, os.availableParallelism());
  const run = runContext(plan, paths, recorder, secrets, options.homeDir, plan.retries, {
    checkoutHook,
    commitIdentity,
    branchesAtStart: branches,
    // One locked write of the port registry for the whole run, while the first worktrees are
    // being made; each ports step then only looks its block up.
    portBlocks: reserveRunPorts(plan, options.runId, options.homeDir),
  });
  run.reviewOf = options.reviewOf;
  run.afterSuccess = options.afterSuccess;
  prestartReapers(Math.min(concurrency, plan.workspaces.length));
  await executeRun(run, {
    concurrency,
    failureMode: options.failureMode,
    interrupt: options.interrupt,
    resumed: options.previous !== undefined,
  });
  return { state: await saved(recorder, paths), paths };
}

/** What `conductor continue` needs. */
export interface FollowUpOptions {
  /** The run holding the workspace, as loaded. */
  previous: RunState;
  workspace: string;
  prompt: string;
  reporters: readonly Reporter[];
  interrupt: AbortSignal;
  homeDir: string;
  /** Runs when the workspace succeeded (the reviewing agent with `review: auto`). */
  afterSuccess?: AfterSuccess | undefined;
}

/**
 * A follow-up turn in one workspace of a finished run: the agent continues its session in the
 * same worktree with new instructions, then the check runs and the result is committed again.
 * Recorded as more events of the same run, so status and reports show the new outcome.
 */
export async function continueSession(options: FollowUpOptions): Promise<SessionResult> {
  const { previous } = options;
  const plan = previous.plan;
  const workspace = plan.workspaces.find((candidate) => candidate.name === options.workspace);
  const before = previous.workspaces[options.workspace];
  if (!workspace || !before)
    throw new UsageError(`run ${previous.runId} has no workspace ${options.workspace}`);
  // Also where its path has a worktree again: a later run's of the same names, or one made by hand.
  if (before.archived !== undefined) {
    throw new StateError(
      `workspace ${workspace.name} of run ${previous.runId} was archived: there is no worktree of it to continue in`,
      { hint: archivedHint(plan.repo.root, workspace, before.archived) },
    );
  }
  if (!before.worktreeCreated || !existsSync(workspace.path)) {
    throw new StateError(
      `workspace ${workspace.name} has no worktree to continue in (${workspace.path})`,
      {
        hint: `It never started or was archived; run it again with \`${conductorCommand(["run", "--resume", previous.runId])}\`.`,
      },
    );
  }
  const sessionId = before.agent.sessionId;
  if (sessionId === undefined && workspace.agent.kind !== "command") {
    throw new StateError(
      `workspace ${workspace.name} has no ${workspace.agent.kind} session to continue`,
      {
        hint: `Its agent never started; run it again with \`${conductorCommand(["run", "--resume", previous.runId])}\`.`,
      },
    );
  }
  const paths = new RunPaths(plan.repo.root, previous.runId);
  await endLeftoverProcesses(previous.runId);
  // Before the agent (which runs git to describe the worktree) or the copy step runs there: a
  // process the agent left may have pointed the link elsewhere since the last check.
  await guardWorktreeLink({
    root: plan.repo.root,
    runId: previous.runId,
    name: workspace.name,
    path: workspace.path,
  });
  // Asked before the agent of the follow-up runs, as a run asks them before its first.
  const { checkoutHook, secrets: knownSecrets, commitIdentity } = askSessionFacts(plan);
  const secrets = await knownSecrets;
  const recorder = new RunRecorder(paths, previous, options.reporters, secrets);
  const started = monotonicMs();
  // A follow-up is its own kind of session, not a resume: the run's record shows it as such, and
  // its time is added to the run's rather than stretching the run to the follow-up's end.
  recorder.emit({ type: "follow-up.started", workspace: workspace.name, pid: process.pid });
  // A follow-up makes no worktree, so it needs no list of branches.
  const run = runContext(plan, paths, recorder, secrets, options.homeDir, 0, {
    checkoutHook,
    commitIdentity,
    branchesAtStart: new Set(),
    portBlocks: Promise.resolve(undefined),
  });
  // Its own signal, so that a budget can stop this turn as an interrupt would.
  const budgetStop = new AbortController();
  run.budget.attach(workspace, budgetStop);
  const signal = AbortSignal.any([options.interrupt, budgetStop.signal]);
  const final = await runWorkspace(run, workspace, signal, {
    prompt: options.prompt,
    sessionId,
    priorUsage: before.agent.usage,
  }).finally(() => run.budget.dispose());
  if (final === "succeeded" && options.afterSuccess && !options.interrupt.aborted) {
    await options.afterSuccess(run, workspace, options.interrupt);
  }
  const counts = countWorkspaces(recorder.state);
  recorder.emit({
    type: "follow-up.finished",
    workspace: workspace.name,
    status: runStatus(counts, plan.workspaces.length, options.interrupt),
    durationMs: Math.round(monotonicMs() - started),
    counts,
  });
  return { state: await saved(recorder, paths), paths };
}

function runContext(
  plan: Plan,
  paths: RunPaths,
  recorder: RunRecorder,
  secrets: KnownSecrets,
  homeDir: string,
  retries: number,
  shared: Pick<RunContext, "branchesAtStart" | "portBlocks" | "checkoutHook" | "commitIdentity">,
): RunContext {
  return {
    plan,
    paths,
    recorder,
    secrets,
    budget: new BudgetGuard(recorder),
    queue: new GitMetadataQueue(),
    ...shared,
    refLedger: new RefLedger(),
    homeDir,
    retries,
    agentFor,
  };
}

async function saved(recorder: RunRecorder, paths: RunPaths): Promise<RunState> {
  await recorder.flush().catch((error: Error) => {
    throw new StateError(`could not write the run state to ${paths.stateFile}: ${error.message}`);
  });
  return recorder.state;
}

/**
 * Creates a new run's folder, failing if it exists: two runs started in the same second could
 * draw the same id, and must not write into one folder.
 */
async function claimRunFolder(paths: RunPaths): Promise<void> {
  await mkdir(path.dirname(paths.dir), { recursive: true });
  try {
    await mkdir(paths.dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    throw new StateError(`another run already uses the id ${paths.runId}`, {
      hint: "Start the run again: it will get a new id.",
    });
  }
}

/**
 * A new run must not meet branches or folders of an earlier one: report all of them at once,
 * before anything is created.
 */
function assertNothingExists(plan: Plan, branches: ReadonlySet<string>): void {
  const taken: string[] = [];
  for (const workspace of [...plan.workspaces, ...winnerBranchHolders(plan)]) {
    // A task's `branch:` exists by definition: the workspace continues on it.
    if (branches.has(workspace.branch) && workspace.startPoint.kind !== "branch")
      taken.push(`branch ${workspace.branch}`);
    if (workspace.path !== "" && existsSync(workspace.path)) taken.push(`folder ${workspace.path}`);
  }
  if (taken.length === 0) return;
  // Earlier runs' branches were set aside before the session started: these appeared since,
  // made by another conductor started at the same moment (or by hand).
  throw new WorkspaceConflictError(
    `${taken.length} branch(es) or folder(s) of this plan appeared while it was starting:\n${taken.map((item) => `  ${item}`).join("\n")}`,
    {
      hint: `\`${conductorCommand(["runs"])}\` shows the runs; run again once the other one has finished.`,
    },
  );
}
