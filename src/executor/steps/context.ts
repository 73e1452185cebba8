import type { Agent } from "../../agents/types.js";
import type { CheckoutHook } from "../../git/checkout-hook.js";
import type { CommitIdentity } from "../../git/commit-identity.js";
import type { GitMetadataQueue } from "../../git/worktree.js";
import type { Plan, Workspace } from "../../planner/types.js";
import type { AgentKind } from "../../schema/config.js";
import type { CommitGuard } from "../../secrets/known-secrets.js";
import type { NamedSecret } from "../../secrets/names.js";
import type { Redactor } from "../../secrets/redact.js";
import type { BudgetGuard } from "../budget-guard.js";
import type { StepResult } from "../events.js";
import type { PortReservation } from "../ports.js";
import type { EventInput } from "../recorder.js";
import type { RefLedger } from "../ref-ledger.js";
import type { RunPaths } from "../run-store.js";
import type { Failure, RunState, WorkspaceState } from "../types.js";

/** Everything a step needs to do its work in one workspace. */
export interface StepContext {
  plan: Plan;
  workspace: Workspace;
  /** The instructions of this turn: the task's prompt, or a follow-up's. */
  prompt: string;
  paths: RunPaths;
  /** The workspace's state before this step (results of earlier steps, earlier tries). */
  state(): WorkspaceState;
  /** The whole run as it stands now (other workspaces' statuses). */
  runState(): RunState;
  emit(event: EventInput): void;
  /** Whether the run's record holds what was recorded; put back, and said so, when not. */
  checkRecord(): string | undefined;
  queue: GitMetadataQueue;
  /** Where the repository's post-checkout hook would be (new worktrees run it, as git's add does). */
  checkoutHook: CheckoutHook;
  /** Who conductor's commits are by, asked when the session started (see askCommitIdentity). */
  commitIdentity: Promise<CommitIdentity>;
  /** Local branches when the run started (one listing per run, not one per workspace). */
  branchesAtStart: ReadonlySet<string>;
  /** The run's port blocks by worktree, reserved together at its start (undefined if that failed). */
  portBlocks: Promise<ReadonlyMap<string, PortReservation> | undefined>;
  /** What the post-agent checks of the run's workspaces found about refs. */
  refLedger: RefLedger;
  homeDir: string;
  /** Aborted on interrupt or fail-fast. */
  signal: AbortSignal;
  /** Secrets known so far (grows when env files are copied), for streams. */
  redactor(): Redactor;
  /** `text` with every secret the run knows replaced: for files written from prompts or agent output. */
  redact(text: string): string;
  addSecrets(values: readonly (string | NamedSecret)[]): void;
  /** The secrets no committed file may hold, known so far, and what holds each. */
  commitGuard(): CommitGuard;
  /** Environment for scripts and the agent: the plan's, plus the port once assigned. */
  env(): Record<string, string>;
  agentFor(kind: AgentKind): Agent;
  /** The run's budgets: whether an agent turn may start, and checks as usage arrives. */
  budget: BudgetGuard;
  /** Whether this step ran before for this workspace (a retry or a resumed run). */
  rerun: boolean;
  /**
   * Whether this step was cut off in an earlier run: its conductor died while it ran, so what it
   * did may be on disk without being recorded.
   */
  cutOff: boolean;
  /**
   * HEAD's commit as the agent step's verification read it, on the workspace branch, when that
   * verification repaired nothing: the commit step trusts it when no check script ran since.
   */
  headAfterAgent?: string | undefined;
}

/** How a step ended. */
export type StepOutcome =
  | { status: "succeeded"; result?: StepResult }
  | { status: "skipped" }
  | { status: "failed"; failure: Failure; result?: StepResult };
