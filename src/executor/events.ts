import type { AgentActivity } from "../agents/types.js";
import type { Plan } from "../planner/types.js";
import type { PriorityCounts, ReviewVerdict } from "../reviewing/findings.js";
import type { AgentKind } from "../schema/config.js";
import type { BudgetReached } from "../usage/budget.js";
import type { TokenUsage } from "../usage/usage.js";
import type {
  BudgetScope,
  DiffStat,
  Failure,
  ReviewFailure,
  RunStatus,
  SelectionRecord,
  Step,
  WorkspaceStatus,
} from "./types.js";

export type { JudgeRecord, SelectionRecord } from "./types.js";

/** What a finished step produced, when it produced something worth recording. */
export type StepResult =
  | { step: "worktree"; path: string; branch: string; startCommit: string }
  | { step: "copy"; copied: string[] }
  | { step: "ports"; port: number }
  | {
      step: "seed";
      /** The cache key the folders came from. */
      key: string;
      /** How each folder was placed (`absent`: the seed script did not make it). */
      folders: { path: string; method: SeedMethod }[];
      /** Whether this workspace ran the seed script (the key was not cached yet). */
      populated: boolean;
    }
  | {
      step: "agent";
      sessionId?: string;
      usage?: TokenUsage;
      /** Tokens of every agent turn of the workspace so far (see `WorkspaceState.agent.spent`). */
      spent?: TokenUsage;
      finalMessage?: string;
    }
  | { step: "check"; passed: boolean }
  | {
      step: "commit";
      /**
       * The branch's newest commit with work on it: the one made now, or (nothing new to commit)
       * the earlier one the branch still ends in; undefined while the branch holds no work.
       */
      commit: string | undefined;
      /** Whether this step made `commit`. Absent in logs of older versions: any commit was new. */
      created?: boolean;
      /** The branch against its start point. */
      diff: DiffStat;
      /** The new commit against its parent: what this turn changed. Absent when nothing new. */
      commitDiff?: DiffStat;
    };

/** How a seeded folder reached a workspace: what was done, not what was asked. */
export type SeedMethod = "reflink" | "copy" | "hardlink" | "symlink" | "absent";

/** What the seed step is doing, for live views: `seeding node_modules from cache 3f2a…`. */
export type SeedPhase =
  /** Another workspace (of this run or another) is running the seed script for this key. */
  | "waiting"
  /** Running the seed script in a fresh checkout, once for this key. */
  | "populating"
  /** Placing the cached folders into the workspace. */
  | "placing";

/**
 * Everything the executor reports, in order. Reporters subscribe to these; the run state on disk
 * is the fold of them (see `applyEvent`).
 */
export type RunEvent = { time: string; runId: string } & (
  | {
      type: "run.started";
      plan: Plan;
      resumed: boolean;
      concurrency: number;
      pid: number;
      /**
       * Reopens only these workspaces. Written by older versions for follow-ups, which are
       * `follow-up.started` now; a resume reopens every unfinished workspace.
       */
      reopen?: string[];
    }
  | {
      /** `conductor continue`: one more turn in one workspace of a finished run. */
      type: "follow-up.started";
      workspace: string;
      pid: number;
    }
  | { type: "workspace.started"; workspace: string; try: number }
  | {
      /**
       * The workspace is prepared (worktree, copy, ports) and waits for a slot of the concurrency
       * limit before `step`; its `step.started` follows when it has one.
       */
      type: "workspace.waiting";
      workspace: string;
      step: Step;
    }
  | { type: "step.started"; workspace: string; step: Step }
  | {
      type: "step.finished";
      workspace: string;
      step: Step;
      status: "succeeded" | "failed" | "skipped";
      durationMs: number;
      result?: StepResult;
      failure?: Failure;
    }
  | {
      /** The seed step's phase, for live views; the step's result records what was placed. */
      type: "seed.phase";
      workspace: string;
      phase: SeedPhase;
      key: string;
      folders: string[];
    }
  | {
      type: "agent.activity";
      workspace: string;
      activity: AgentActivity;
      /** With a usage activity: the workspace's tokens over all its agent turns so far. */
      spent?: TokenUsage;
    }
  | {
      /**
       * A budget was reached: no new agent turn starts (in the run, or in the task), and turns
       * still running are cancelled after `graceMs`.
       */
      type: "budget.reached";
      scope: BudgetScope;
      /** The task, for a task's budget. */
      task?: string;
      reached: BudgetReached;
      graceMs: number;
    }
  | {
      /** A best-of-N task's judge session started: its agent time counts from now. */
      type: "judge.started";
      task: string;
      asked: string[];
    }
  | {
      /** The running judge's tokens so far, as its agent reports them. */
      type: "judge.usage";
      task: string;
      usage: TokenUsage;
    }
  | {
      /**
       * A best-of-N task's judge session ended, however it ended (it chose, failed, was cut
       * short): what it spent, which the run's and the task's budget count.
       */
      type: "judge.finished";
      task: string;
      agentTimeMs: number;
      usage?: TokenUsage;
    }
  | {
      /** The latest line a setup or check script printed (throttled), for live views. */
      type: "step.output";
      workspace: string;
      step: Step;
      line: string;
    }
  | { type: "workspace.retrying"; workspace: string; step: Step; try: number; failure: Failure }
  | {
      type: "workspace.finished";
      workspace: string;
      status: WorkspaceStatus;
      durationMs: number;
      failure?: Failure;
    }
  | ({
      /** A task with several workspaces picked its winner, or found none that passed. */
      type: "selection.made";
    } & SelectionRecord)
  | {
      /** A reviewing agent started on the workspace's changes since `base`. */
      type: "review.started";
      workspace: string;
      reviewer: AgentKind;
      base: string;
      head: string | undefined;
      /** The conductor process that runs the review (absent in records written before it was kept). */
      pid?: number;
    }
  | {
      type: "review.finished";
      workspace: string;
      /** completed: an answer was read; skipped: no changes to review. */
      status: "completed" | "failed" | "skipped";
      durationMs: number;
      head?: string;
      verdict?: ReviewVerdict;
      /** Findings by priority, P0 first. */
      counts?: PriorityCounts;
      failure?: ReviewFailure;
    }
  | { type: "run.interrupting"; signal: string }
  | {
      type: "workspace.archived";
      workspace: string;
      branchDeleted: boolean;
      /** Where the branch was kept when a new run took its name (`refs/conductor/runs/…`). */
      keptAs?: string;
    }
  | {
      type: "run.finished";
      status: RunStatus;
      durationMs: number;
      counts: Record<WorkspaceStatus, number>;
    }
  | {
      type: "follow-up.finished";
      workspace: string;
      /** The run's status with the follow-up's outcome. */
      status: RunStatus;
      /** How long the follow-up took (not the run). */
      durationMs: number;
      counts: Record<WorkspaceStatus, number>;
    }
);

/** The `type` of a run event. */
export type RunEventType = RunEvent["type"];

/** Subscribers to the executor's events: live views, log writers, the state file. */
export interface Reporter {
  /** Called for every event, in order; must not throw or block. */
  onEvent(event: RunEvent): void;
  /** Called once after the last event; flush and release the terminal. */
  close(): Promise<void>;
}
