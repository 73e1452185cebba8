import type {
  AgentConfig,
  Config,
  CopyEntry,
  ReviewSettings,
  Scripts,
  TaskStart,
} from "../schema/config.js";
import type { RunMode } from "../schema/repo-settings.js";
import type { SeedConfig } from "../schema/seed.js";
import type { BudgetLimits, Prices } from "../usage/budget.js";

/** Facts about the repository and machine the planner needs; gathered by the CLI, never by the planner. */
export interface RepoFacts {
  /** Absolute path of the main checkout. */
  root: string;
  /** Repository name (the main checkout's folder name); names the default workspaces folder. */
  name: string;
  /** The repository's default branch, e.g. `main`. */
  defaultBranch: string;
  /** The ref new branches start from (config `base`, else the default branch). */
  baseRef: string;
  /** The commit `baseRef` resolved to. */
  baseCommit: string;
  /** The user's home directory, for `~` and the default workspaces folder. */
  homeDir: string;
  /** What the tasks' `from:`, `branch:` and `pr:` resolved to, keyed by {@link startKey}. */
  starts?: Readonly<Record<string, ResolvedStart>>;
  /** `tasks_from.github_issues`: the numbers of the issues gh listed, in its order. */
  issueList?: readonly number[];
  /** The GitHub issues tasks take their prompts from, by number (`issue:`, `tasks_from`). */
  issues?: Readonly<Record<string, IssueFacts>>;
}

/** A task's `from:`, `branch:` or `pr:` as found in the repository before planning. */
export interface ResolvedStart {
  commit: string;
  /** `pr:`: the local ref the pull request's head was fetched into. */
  ref?: string;
  /**
   * `branch:`: the worktree that has it checked out, if any (the main checkout is refused
   * before planning); allowed only when it is the workspace's own worktree.
   */
  checkedOutAt?: string;
  /** `branch:`: where its upstream is, for `conductor pr`; undefined without one. */
  upstream?: { remote: string; branch: string };
}

/** A GitHub issue as `gh issue view --json` gave it. */
export interface IssueFacts {
  number: number;
  title: string;
  body: string;
  comments: { author: string; body: string }[];
  updatedAt: string;
}

/** The key of a task's start in {@link RepoFacts.starts}: `from:<ref>`, `branch:<name>`, `pr:<n>`. */
export function startKey(start: TaskStart): string {
  switch (start.kind) {
    case "from":
      return `from:${start.ref}`;
    case "branch":
      return `branch:${start.branch}`;
    case "pr":
      return `pr:${start.number}`;
  }
}

/** A CI shard: the `index`-th (1-based) of `count` disjoint parts of the plan. */
export interface Shard {
  index: number;
  count: number;
}

/** Everything the planner works from. The same input always gives the same plan. */
export interface PlanInput {
  config: Config;
  facts: RepoFacts;
  /** Contents of every `prompt_file`, keyed by the path as written. */
  promptFiles: Readonly<Record<string, string>>;
  /** The run this plan is for; `{{run}}` stays unfilled without one. */
  runId?: string | undefined;
  /** The config file, relative to the repository root (absolute when outside it). */
  configFile?: string | undefined;
  /** Task ids or globs to plan (plus what they depend on); all tasks when empty. */
  taskPatterns?: readonly string[];
  shard?: Shard | undefined;
}

/**
 * Where a workspace's branch starts: the base, a task's `from:` ref, a pull request's head
 * (fetched into `ref`), an existing branch it continues on (then the workspace's own branch),
 * or the branch of the dependency it builds on.
 */
export type StartPoint =
  | { kind: "base"; ref: string; commit: string }
  | { kind: "ref"; ref: string; commit: string }
  | { kind: "pull-request"; number: number; ref: string; commit: string }
  | {
      kind: "branch";
      branch: string;
      commit: string;
      upstream: { remote: string; branch: string } | undefined;
    }
  | { kind: "workspace"; workspace: string; branch: string }
  /** The winner of a task with several workspaces: `branch` is the name the winner's branch takes. */
  | { kind: "winner"; task: string; branch: string };

/** How a task with several workspaces picks one (`select:`), as planned. */
export interface TaskSelection {
  taskId: string;
  mode: "first-passing" | "best";
  /** The candidates in plan order, each with the branch it has until it wins. */
  candidates: { name: string; branch: string }[];
  /**
   * The task's plain branch name (`conductor/fix-date-parsing`), which the winner's branch takes;
   * undefined when the branch template names the attempt or a matrix key (the winner keeps its own).
   */
  branch: string | undefined;
  /** Archive the losers once the winner is picked (`select.archive_losers`). */
  archiveLosers: boolean;
  /** Tasks that start from the winner. */
  dependents: string[];
}

/** The commit a start point names, or undefined for a dependency's branch (known at run time). */
export function startCommit(start: StartPoint): string | undefined {
  return start.kind === "workspace" || start.kind === "winner" ? undefined : start.commit;
}

/** One planned unit of work: a task × attempt × matrix cell, with everything needed to run it. */
export interface Workspace {
  /** Stable, unique, readable name, e.g. `add-auth`, `add-auth-2`, `add-auth-model-o4-mini`. */
  name: string;
  taskId: string;
  /** 1-based attempt number (best-of-N). */
  attempt: number;
  /** This workspace's matrix cell (empty without a matrix). */
  matrix: Record<string, string>;
  branch: string;
  /** Absolute path of the worktree. */
  path: string;
  startPoint: StartPoint;
  /** Branches of further dependencies, merged in after the worktree is created. */
  mergeBranches: string[];
  /** Names of the workspaces that must succeed first. */
  dependsOn: string[];
  /** Tasks whose winner must be picked first (this workspace starts from or merges it). */
  winnerOf?: string[];
  /** 0 for workspaces without dependencies; 1 + the highest level of their dependencies otherwise. */
  level: number;
  /** The prompt with placeholders filled. */
  prompt: string;
  /** The prompt file as written in the config, when the prompt came from one. */
  promptFile: string | undefined;
  /** Agent settings after merging defaults < task overrides < matrix values. */
  agent: AgentConfig;
  scripts: Scripts;
  /** Longest time setup, check and archive may each run. */
  scriptTimeoutMs: number;
  /** Environment for scripts and agent, without the concrete port (assigned at run time). */
  env: Record<string, string>;
  /** Index of this workspace's port block; distinct for every workspace of the plan. */
  portBlock: number;
  /** The GitHub issue its prompt came from: its pull request closes it. */
  issue?: number;
  /** The pull request it works on (`pr:`): `conductor pr` updates that one. */
  pullRequest?: number;
}

/** The deterministic result of planning: what a run will do, before anything is done. */
export interface Plan {
  /** Version of this JSON shape. */
  formatVersion: 1;
  /** Content hash of what changes a run's behaviour: normalized config, base commit, prompt files. */
  hash: string;
  repo: { root: string; name: string; defaultBranch: string };
  base: { ref: string; commit: string };
  runId: string | undefined;
  /**
   * The config file the plan came from, relative to the repository root (absolute when outside
   * it): which runs belong to which file. Not part of the hash. Absent in runs of older versions.
   */
  configFile?: string | undefined;
  /** Absolute folder the worktrees go in. */
  workspacesDir: string;
  portsPerWorkspace: number;
  /** `scripts.run_mode`: `nonconcurrent` makes `serve` stop other workspaces' servers first. */
  runMode?: RunMode;
  /** Largest file conductor commits (`workspaces.max_file_size`); absent in older runs. */
  maxFileBytes?: number;
  concurrency: number | undefined;
  retries: number;
  failFast: boolean;
  copy: CopyEntry[];
  context: string[];
  /** Folders made once per key and given to every workspace (`workspaces.seed`); absent when unset. */
  seed?: SeedConfig;
  /** The reviewing agent's settings; absent when the config has no `review`. */
  review?: ReviewSettings;
  /**
   * What the run may spend and what tokens cost; absent when the config sets neither a budget nor
   * prices. Not part of the hash: raising a budget lets `run --resume` go on.
   */
  budget?: PlanBudget;
  /** The selected workspaces, dependencies before dependents. */
  workspaces: Workspace[];
  /** Workspace names by dependency level: level 0 first. */
  levels: string[][];
  /** Tasks of the selected workspaces that pick a winner among several (absent in older runs). */
  selections?: TaskSelection[];
  selection: {
    taskPatterns: string[];
    shard: Shard | undefined;
    /** How many workspaces the whole plan has before selection. */
    totalWorkspaces: number;
  };
}

/** A plan's budgets (`budget:` at the top and per task) and prices. */
export interface PlanBudget {
  /** Limits of the whole run; absent: none. */
  run?: BudgetLimits;
  /** Limits of tasks that have their own, by task id. */
  tasks: Record<string, BudgetLimits>;
  /** How long running agent turns may go on once a budget is reached. */
  graceMs: number;
  /** Dollars per million tokens, by model. */
  prices: Prices;
}

export type { Config };
