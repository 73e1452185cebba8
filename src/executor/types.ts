import type { AgentActivity } from "../agents/types.js";
import type { Plan } from "../planner/types.js";
import type { PriorityCounts, ReviewVerdict } from "../reviewing/findings.js";
import type { AgentKind } from "../schema/config.js";
import type { Ranking } from "../selection/rank.js";
import type { BudgetLimitKind, BudgetReached } from "../usage/budget.js";
import type { TokenUsage } from "../usage/usage.js";

/** The visible steps of one workspace, in order. */
export const STEPS = [
  "worktree",
  "copy",
  "ports",
  "seed",
  "setup",
  "agent",
  "check",
  "commit",
] as const;
/** One step of a workspace's work. */
export type Step = (typeof STEPS)[number];

/** Where a workspace stands. */
export type WorkspaceStatus =
  /** Not started yet (waiting for a slot or a dependency). */
  | "pending"
  /** Being worked on. */
  | "running"
  /** Every step succeeded and the result is committed. */
  | "succeeded"
  /** A step failed (after retries). */
  | "failed"
  /** Not started because a dependency did not succeed, or fail-fast stopped the run. */
  | "skipped"
  /** Stopped by Ctrl-C / SIGTERM or a killed conductor; `conductor run --resume` continues it. */
  | "interrupted";

/** Why a step failed: a closed union, one member per kind of failure. */
export type Failure =
  /** A script or agent exited with a non-zero code. */
  | { reason: "exit-non-zero"; step: Step; message: string; exitCode: number; logPath?: string }
  /** A script or agent was killed by a signal conductor did not send. */
  | { reason: "signal"; step: Step; message: string; signal: string; logPath?: string }
  /** A script or agent ran past its timeout and was killed. */
  | { reason: "timeout"; step: Step; message: string; timeoutMs: number; logPath?: string }
  /** A program could not be started at all. */
  | { reason: "spawn-error"; step: Step; message: string; logPath?: string }
  /** The agent reported an error (bad API key, unknown model, rate limit…). */
  | { reason: "agent-error"; step: Step; message: string; logPath?: string }
  /** A git operation failed (worktree add, merge, commit). */
  | { reason: "git-error"; step: Step; message: string; logPath?: string }
  /**
   * The agent left the repository in a state conductor cannot accept: its branch rewritten, its
   * work off the branch, another ref moved, the main checkout changed.
   */
  | { reason: "integrity"; step: Step; message: string; logPath?: string }
  /** A branch or worktree path is already taken. */
  | { reason: "conflict"; step: Step; message: string; logPath?: string }
  /** A file could not be copied or the state could not be written. */
  | { reason: "io-error"; step: Step; message: string; logPath?: string }
  /** A dependency did not succeed, so this workspace never started. */
  | { reason: "dependency-failed"; step: Step; message: string; dependency: string }
  /**
   * The agent kept failing to reach its model provider for `agent.connect_timeout` and was ended.
   * `url` is the provider's base URL without credentials.
   */
  | {
      reason: "unreachable";
      step: Step;
      message: string;
      url?: string;
      timeoutMs: number;
      logPath?: string;
    }
  /** The agent printed nothing for `agent.idle_timeout` and was ended. */
  | { reason: "idle"; step: Step; message: string; idleMs: number; logPath?: string }
  /** Work was cancelled (interrupt, fail-fast). */
  | { reason: "cancelled"; step: Step; message: string }
  /**
   * The run's or the task's budget was reached: the agent turn was stopped after the grace period
   * (its work stays in the worktree) or never started. `run --resume` continues once it is raised.
   */
  | {
      reason: "budget";
      step: Step;
      message: string;
      limit: BudgetLimitKind;
      scope: BudgetScope;
      logPath?: string;
    };

/** Whose budget: the whole run's, or one task's (over all its workspaces). */
export type BudgetScope = "run" | "task";

/** Why a review did not give an answer: a closed union, one member per kind. */
export type ReviewFailure =
  /** The reviewer failed: an error, a non-zero exit, a timeout, an unreachable provider. */
  | { reason: "agent-error"; message: string; logPath?: string }
  /** The reviewer changed files or refs; they were put back as they were. */
  | { reason: "edited"; message: string; paths: string[]; refs: string[]; logPath?: string }
  /** The reviewer's answer is not a review (not JSON, no rendered findings). */
  | { reason: "malformed"; message: string; logPath?: string }
  /** `review.instructions_file` could not be read. */
  | { reason: "instructions"; message: string }
  /** Git could not tell what the reviewer did, or could not put it back. */
  | { reason: "git-error"; message: string }
  /** review.json or review.md could not be written. */
  | { reason: "io-error"; message: string }
  /** Stopped by Ctrl-C or fail-fast. */
  | { reason: "cancelled"; message: string };

/** How a workspace's latest review ended, as recorded. */
export interface ReviewState {
  status: "running" | "completed" | "failed" | "skipped";
  reviewer: AgentKind;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  /** The commit that was reviewed (the branch head when the review started). */
  head?: string;
  /** The conductor process that runs it, while it runs: a review is live while that process is. */
  pid?: number;
  verdict?: ReviewVerdict;
  /** Findings by priority, P0 first. */
  counts?: PriorityCounts;
  failure?: ReviewFailure;
}

/** Lines added/removed on the workspace branch against its start point. */
export interface DiffStat {
  files: number;
  insertions: number;
  deletions: number;
}

/** Outcome of one step, as recorded: its latest execution, and the time of all of them. */
export interface StepRecord {
  status: "running" | "succeeded" | "failed" | "skipped";
  startedAt: string;
  finishedAt?: string;
  /** The latest execution. */
  durationMs?: number;
  /** Every finished execution of the step together (retries, resumes, follow-ups). */
  totalMs?: number;
}

/** Everything known about one workspace of a run. */
export interface WorkspaceState {
  name: string;
  status: WorkspaceStatus;
  /** The step running now, or where the workspace stopped. */
  step: Step | undefined;
  /** How many times it was started (1 + retries used). */
  tries: number;
  /** When its current (or latest) session started working on it. */
  startedAt?: string;
  finishedAt?: string;
  /**
   * Time spent working on it: the finished sessions (the run, resumes, follow-ups) summed, not
   * the time since it first started. A running session adds its time when it ends.
   */
  durationMs?: number;
  steps: Partial<Record<Step, StepRecord>>;
  /** Whether the worktree exists (so resume reuses it). */
  worktreeCreated: boolean;
  /** Commit the branch started from (after merging further dependencies); diffs are against it. */
  startCommit?: string;
  /** First port of the block, once assigned. */
  port?: number;
  /** Files copied from the main checkout (relative paths). */
  copied: string[];
  /** The folders seeded from the cache (`workspaces.seed`) and the key they came from. */
  seed?: { key: string; folders: string[] };
  agent: {
    sessionId?: string;
    /** Tokens of the agent's current session (what the agent reports). */
    usage?: TokenUsage;
    /**
     * Tokens of every agent turn of this workspace together: tries, resumes and follow-ups, the
     * interrupted ones included. Budgets count these. Absent in runs of older versions (use usage).
     */
    spent?: TokenUsage;
    finalMessage?: string;
    /** The latest activity, for live views and status of a running run. */
    lastActivity?: AgentActivity;
  };
  /** Result of the check script; `none` when there is no check. */
  check?: "passed" | "failed" | "none";
  /**
   * Whether {@link check} is the verdict conductor wrote into {@link commit}'s trailers: the
   * latest check was followed by the commit step that made that commit. False after a check
   * whose commit step found nothing new (a follow-up that changed nothing keeps the earlier
   * commit, whose trailer states the earlier verdict).
   */
  checkInCommit?: boolean;
  /**
   * The branch's newest commit with work on it (conductor's latest; a follow-up with nothing new
   * keeps it); absent while the branch holds nothing beyond its start point.
   */
  commit?: string;
  /** The branch against its start point. */
  diff?: DiffStat;
  failure?: Failure;
  /** The latest review (`conductor review`, or `review: auto`); absent until one started. */
  review?: ReviewState;
  /** Set once `conductor archive` removed the worktree (the branch stays unless deleted too). */
  archived?: {
    at: string;
    branchDeleted: boolean;
    /**
     * The ref the branch was kept as when a new run took its name (`refs/conductor/runs/…`), or
     * when it lost a pick and `archive --losers` set it aside (`refs/conductor/losers/…`).
     */
    keptAs?: string;
  };
}

/** One time conductor worked on a run: the run itself, a resume, or a follow-up. */
export interface RunSession {
  kind: "run" | "resume" | "follow-up";
  /** The workspace a follow-up continued. */
  workspace?: string;
  startedAt: string;
  /** Absent while it runs, or when its conductor was killed (then counted to its last event). */
  finishedAt?: string;
  durationMs?: number;
}

/** How a whole run stands. */
export type RunStatus = "running" | "succeeded" | "failed" | "interrupted";

/** The state of one run, as kept in `.conductor/runs/<id>/run.json`. */
export interface RunState {
  /** Version of this JSON shape. */
  formatVersion: 1;
  runId: string;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** Process working on the run (to tell a live run from a killed one). */
  pid: number;
  /** Every session, in order; the run's duration is theirs summed (absent in older states). */
  sessions?: RunSession[];
  plan: Plan;
  /** By workspace name, in plan order. */
  workspaces: Record<string, WorkspaceState>;
  /** Winners picked, by task id (tasks with `select: best | first-passing`). */
  selections?: Record<string, SelectionRecord & { at: string }>;
  /**
   * Budgets reached in the latest session (a resume checks them again): the run's, which stops
   * the run with reason budget, and tasks' by task id.
   */
  budgetReached?: { run?: ReachedBudget; tasks: Record<string, ReachedBudget> };
  /**
   * Every judge session of the run's best-of-N tasks, by task id, in the order they ran: also
   * those cut short (Ctrl-C), whose pick is made again on resume. Budgets count these; a
   * selection's judge record tells only the session that decided it.
   */
  judges?: Record<string, JudgeSession[]>;
}

/** One session of a task's judge and what it spent. */
export interface JudgeSession {
  /** The candidates it was asked about; it runs the first one's agent (its model, its prices). */
  asked: string[];
  startedAt: string;
  /** Its agent time once it ended; while it runs, its agent time is the time since `startedAt`. */
  agentTimeMs?: number;
  /** The tokens it reported, so far while it runs. */
  usage?: TokenUsage;
}

/** A budget limit that was reached, and when. */
export interface ReachedBudget extends BudgetReached {
  at: string;
}

/** What the judge of a best-of-N task did; its prompt and answer are files in the run folder. */
export interface JudgeRecord {
  /**
   * `chose`: a valid answer ranked the tied candidates; `failed`: the judge did not finish;
   * `invalid`: its answer was not the JSON asked for; `unavailable`: no judge could be started
   * (a command agent without `agent.judge_command`).
   */
  status: "chose" | "failed" | "invalid" | "unavailable";
  /** The candidates it was asked to tell apart. */
  asked: string[];
  /** Its reasons, when it chose. */
  reasons?: string;
  /** Why its answer was not used. */
  problem?: string;
  /** Files in the run folder, relative to it. */
  promptFile?: string;
  answerFile?: string;
  logFile?: string;
  /** What its session spent, when it ran; the budgets count it among the run's `judges`. */
  usage?: TokenUsage;
  agentTimeMs?: number;
}

/** A selection as recorded: by the run (`manual: false`) or by `conductor pick`. */
export interface SelectionRecord {
  task: string;
  winner: string | undefined;
  ranking: Ranking;
  /** Whether a person picked the winner (`conductor pick`), overriding the automatic choice. */
  manual: boolean;
  /** The branch the winner's branch now has (the task's plain branch name). */
  branch?: string;
  judge?: JudgeRecord;
  /** Why there is no winner, or why the winner's branch kept its name. */
  note?: string;
}
