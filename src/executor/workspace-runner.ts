import type { Agent } from "../agents/types.js";
import type { CheckoutHook } from "../git/checkout-hook.js";
import type { CommitIdentity } from "../git/commit-identity.js";
import type { GitMetadataQueue } from "../git/worktree.js";
import type { Plan, Workspace } from "../planner/types.js";
import type { AgentKind } from "../schema/config.js";
import type { KnownSecrets } from "../secrets/known-secrets.js";
import { monotonicMs } from "../timers/monotonic.js";
import { type BudgetGuard, budgetFailureOf } from "./budget-guard.js";
import { isRetryable } from "./failure.js";
import type { PortReservation } from "./ports.js";
import type { RunRecorder } from "./recorder.js";
import type { RefLedger } from "./ref-ledger.js";
import type { RunPaths } from "./run-store.js";
import type { ReviewReader } from "./selection/facts.js";
import type { SlotRefusal } from "./slot-gate.js";
import { agentStep, type FollowUp } from "./steps/agent.js";
import { commitStep } from "./steps/commit.js";
import type { StepContext, StepOutcome } from "./steps/context.js";
import { copyStep } from "./steps/copy.js";
import { portsStep } from "./steps/ports.js";
import { scriptStep } from "./steps/script.js";
import { seedStep } from "./steps/seed.js";
import { worktreeStep } from "./steps/worktree.js";
import {
  type Failure,
  STEPS,
  type Step,
  type WorkspaceState,
  type WorkspaceStatus,
} from "./types.js";

/** What every workspace of a run shares. */
export interface RunContext {
  plan: Plan;
  paths: RunPaths;
  recorder: RunRecorder;
  /** Every secret the run knows; logs, events and files written from agent output use it. */
  secrets: KnownSecrets;
  queue: GitMetadataQueue;
  /** Where the repository's post-checkout hook would be (new worktrees run it, as git's add does). */
  checkoutHook: CheckoutHook;
  /** Who conductor's commits are by, asked when the session started. */
  commitIdentity: Promise<CommitIdentity>;
  /** Local branches when the run started. */
  branchesAtStart: ReadonlySet<string>;
  /** The run's port blocks by worktree, reserved together at its start (undefined if that failed). */
  portBlocks: Promise<ReadonlyMap<string, PortReservation> | undefined>;
  /** What the workspaces' post-agent checks found about refs, shared between them. */
  refLedger: RefLedger;
  homeDir: string;
  /** Retries each workspace may use, in total over its steps. */
  retries: number;
  agentFor(kind: AgentKind): Agent;
  /** Reads a candidate's review verdict for the ranking of best-of-N tasks (absent: no reviews). */
  reviewOf?: ReviewReader | undefined;
  /**
   * Work on a workspace after it succeeded, in a slot of the concurrency limit taken again after
   * its commit (the reviewing agent, with `review: auto`). It records its own outcome; the
   * workspace's stays.
   */
  afterSuccess?: AfterSuccess | undefined;
  /** Enforces the plan's budgets. */
  budget: BudgetGuard;
}

/** See {@link RunContext.afterSuccess}. */
export type AfterSuccess = (
  run: RunContext,
  workspace: Workspace,
  signal: AbortSignal,
) => Promise<unknown>;

const RUNNERS: Record<Step, (ctx: StepContext) => Promise<StepOutcome>> = {
  worktree: worktreeStep,
  copy: copyStep,
  ports: portsStep,
  seed: seedStep,
  setup: (ctx) => scriptStep(ctx, "setup"),
  agent: (ctx) => agentStep(ctx),
  check: (ctx) => scriptStep(ctx, "check"),
  commit: commitStep,
};

/** Steps that are cheap and idempotent run again on resume: they restore secrets and the port. */
const ALWAYS_RUN: ReadonlySet<Step> = new Set(["worktree", "copy", "ports"]);

/**
 * Whether a step that succeeded in an earlier session runs again on resume. Besides the cheap
 * steps, a check whose commit did not succeed: the worktree may have changed since the check ran
 * (the user fixing what failed the commit, by hand), and the commit stamps the check's verdict on
 * exactly what it commits, so the verdict must be about that.
 */
function runsAgain(step: Step, before: WorkspaceState): boolean {
  if (ALWAYS_RUN.has(step)) return true;
  return step === "check" && before.steps.commit?.status !== "succeeded";
}

/**
 * Steps that run outside the workspace's slot of the concurrency limit: conductor's own cheap
 * git and file work, done ahead of the slot (worktree, copy, ports) or after it (commit).
 */
const OUTSIDE_SLOT: ReadonlySet<Step> = new Set(["worktree", "copy", "ports", "commit"]);

/**
 * The workspace's place in the concurrency limit (see `SlotGate`): its heavy steps (seed, setup,
 * agent, check) wait for a slot, which it gives back before its commit.
 */
export interface WorkspaceSlot {
  /** Waits for a slot before `step`; resolves how the workspace ends instead when it may not start. */
  acquire(step: Step, signal: AbortSignal): Promise<SlotRefusal | undefined>;
  /** The heavy work is over: the slot goes to the next workspace (the scheduler frees it anyway when the workspace ends). */
  release(): void;
}

/** A follow-up turn works on the existing worktree: no new worktree, no setup. */
const FOLLOW_UP_STEPS: readonly Step[] = ["copy", "ports", "agent", "check", "commit"];

/**
 * Takes one workspace through its steps. A failed step is retried (while the run's retry budget
 * lasts); a failed check still commits the work so nothing is lost, then fails the workspace.
 * Steps that succeeded in an earlier run are not repeated on resume (but see `runsAgain`). With
 * `followUp`, the agent continues its session with new instructions, then check and commit run
 * again.
 */
export async function runWorkspace(
  run: RunContext,
  workspace: Workspace,
  signal: AbortSignal,
  followUp?: FollowUp,
  slot?: WorkspaceSlot,
): Promise<WorkspaceStatus> {
  const before = run.recorder.state.workspaces[workspace.name];
  if (!before) throw new Error(`internal error: no state for workspace ${workspace.name}`);
  const started = monotonicMs();
  run.recorder.emit({
    type: "workspace.started",
    workspace: workspace.name,
    try: before.tries + 1,
  });
  const ctx = stepContext(run, workspace, signal, followUp?.prompt ?? workspace.prompt);
  let retriesLeft = run.retries;
  let checkFailure: Failure | undefined;

  // Time spent prepared, waiting for a slot, is not time worked on the workspace.
  let waitedMs = 0;
  // Whether the workspace is still ahead of its slot (its heavy steps not begun).
  let ahead = slot !== undefined;
  const finish = (status: WorkspaceStatus, failure?: Failure): WorkspaceStatus => {
    const durationMs = Math.round(monotonicMs() - started - waitedMs);
    run.recorder.emit({
      type: "workspace.finished",
      workspace: workspace.name,
      status,
      durationMs,
      ...(failure ? { failure } : {}),
    });
    return status;
  };

  // A budget ends the turn the way Ctrl-C does, but the workspace failed: its budget is spent.
  const stopped = (step: Step): WorkspaceStatus | undefined => {
    const failure = budgetFailureOf(signal, step);
    return failure === undefined ? undefined : finish("failed", failure);
  };

  for (const step of followUp ? FOLLOW_UP_STEPS : STEPS) {
    // Runs without workspaces.seed have no seed step at all, not even a skipped one.
    if (step === "seed" && ctx.plan.seed === undefined) continue;
    const earlier = before.steps[step];
    if (!followUp && earlier?.status === "succeeded" && !runsAgain(step, before)) continue;
    if (slot !== undefined && step === "commit") {
      // The slot goes to the next workspace during the commit, unless the workspace is failing
      // (its check failed): the scheduler must learn that before anything new starts (fail_fast).
      if (checkFailure === undefined) slot.release();
      ahead = false;
    } else if (ahead && (!OUTSIDE_SLOT.has(step) || signal.aborted)) {
      // Before its heavy work the workspace waits for a slot; stopped while still ahead of it,
      // it ends the way the scheduler says (as if it had never started).
      const waitStarted = monotonicMs();
      const refused = await slot?.acquire(step, signal);
      waitedMs += monotonicMs() - waitStarted;
      if (refused !== undefined) return finish(refused.status, refused.failure);
      ahead = false;
    }
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted)
        return (
          stopped(step) ??
          finish("interrupted", {
            reason: "cancelled",
            step,
            message: `stopped before ${step}`,
          })
        );
      ctx.rerun = earlier !== undefined || attempt > 0;
      ctx.cutOff = attempt === 0 && earlier?.status === "running";
      const outcome = await timedStep(run, ctx, step, followUp);
      if (outcome.status !== "failed") break;
      const failure = outcome.failure;
      if (failure.reason === "cancelled" || signal.aborted)
        return stopped(step) ?? finish("interrupted", failure);
      if (retriesLeft > 0 && isRetryable(failure)) {
        retriesLeft--;
        run.recorder.emit({
          type: "workspace.retrying",
          workspace: workspace.name,
          step,
          try: attempt + 2,
          failure,
        });
        continue;
      }
      // A check that failed still has its work committed; one refused for what it did to the
      // repository (it runs the agent's code) does not.
      if (step !== "check" || failure.reason === "integrity") return finish("failed", failure);
      checkFailure = failure; // commit the work anyway, then fail
      break;
    }
  }
  return checkFailure ? finish("failed", checkFailure) : finish("succeeded");
}

async function timedStep(
  run: RunContext,
  ctx: StepContext,
  step: Step,
  followUp: FollowUp | undefined,
): Promise<StepOutcome> {
  const name = ctx.workspace.name;
  run.recorder.emit({ type: "step.started", workspace: name, step });
  const started = monotonicMs();
  let outcome: StepOutcome;
  try {
    outcome =
      step === "agent" && followUp ? await agentStep(ctx, followUp) : await RUNNERS[step](ctx);
  } catch (error) {
    // Steps return their expected failures; anything thrown is a file-system surprise (disk full,
    // permissions), recorded as such instead of taking the whole run down.
    outcome = {
      status: "failed",
      failure: { reason: "io-error", step, message: (error as Error).message },
    };
  }
  const durationMs = Math.round(monotonicMs() - started);
  run.recorder.emit({
    type: "step.finished",
    workspace: name,
    step,
    status: outcome.status,
    durationMs,
    ...("result" in outcome && outcome.result ? { result: outcome.result } : {}),
    ...(outcome.status === "failed" ? { failure: outcome.failure } : {}),
  });
  return outcome;
}

/** Builds what the steps of one workspace see. */
export function stepContext(
  run: RunContext,
  workspace: Workspace,
  signal: AbortSignal,
  prompt: string,
): StepContext {
  const state = () => {
    const current = run.recorder.state.workspaces[workspace.name];
    if (!current) throw new Error(`internal error: no state for workspace ${workspace.name}`);
    return current;
  };
  return {
    plan: run.plan,
    workspace,
    prompt,
    paths: run.paths,
    state,
    runState: () => run.recorder.state,
    emit: (event) => run.recorder.emit(event),
    checkRecord: () => run.recorder.checkRecord(),
    queue: run.queue,
    checkoutHook: run.checkoutHook,
    commitIdentity: run.commitIdentity,
    branchesAtStart: run.branchesAtStart,
    portBlocks: run.portBlocks,
    refLedger: run.refLedger,
    homeDir: run.homeDir,
    signal,
    redactor: () => run.secrets.redactor,
    redact: (text) => run.secrets.redact(text),
    addSecrets: (values) => run.secrets.add(values),
    commitGuard: () => run.secrets.commitGuard(),
    env: () => ({
      ...workspaceEnv(workspace, run.paths.runId, state().port),
      ...seedEnv(state().seed),
    }),
    agentFor: run.agentFor,
    budget: run.budget,
    rerun: false,
    cutOff: false,
  };
}

/**
 * The environment of a workspace's scripts and agent: the plan's, the run id, and CONDUCTOR_PORT
 * once the port block is known. `serve` and `archive` start scripts with the same environment.
 */
export function workspaceEnv(
  workspace: Workspace,
  runId: string,
  port: number | undefined,
): Record<string, string> {
  return {
    ...workspace.env,
    CONDUCTOR_RUN_ID: runId,
    ...(port === undefined ? {} : { CONDUCTOR_PORT: String(port) }),
  };
}

export type { FollowUp };

/**
 * Tells a workspace's setup script, check and agent that its seed folders came from the cache,
 * so a setup that also installs can skip that part (`[ -n "$CONDUCTOR_SEEDED" ] || npm ci`).
 */
function seedEnv(seed: { key: string } | undefined): Record<string, string> {
  return seed === undefined ? {} : { CONDUCTOR_SEEDED: "1", CONDUCTOR_SEED_KEY: seed.key };
}
