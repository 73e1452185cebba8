import type { BudgetLimits, Prices } from "../usage/budget.js";
import { parseDuration } from "./duration.js";
import type { RunMode } from "./repo-settings.js";
import { normalizeSeed, type SeedConfig } from "./seed.js";
import { parseSize } from "./size.js";
import { parseTokenCount } from "./token-count.js";
import type {
  AGENT_KINDS,
  COPY_MODES,
  MERGE_METHODS,
  SANDBOX_MODES,
  SCRIPT_NAMES,
  SELECT_MODES,
  WrittenAgent,
  WrittenConfig,
  WrittenTask,
} from "./written.js";

/** Which agent does the coding. */
export type AgentKind = (typeof AGENT_KINDS)[number];
/** Codex sandbox policy. */
export type SandboxMode = (typeof SANDBOX_MODES)[number];
/** How a file from the main checkout reaches a workspace. */
export type CopyMode = (typeof COPY_MODES)[number];
/** `setup`, `check`, `run` or `archive`. */
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** How a task with several workspaces picks its winner. */
export type SelectMode = (typeof SELECT_MODES)[number];

/** `select:` as written at the top level or on a task, normalized; unset fields stay undefined. */
export interface SelectSettings {
  mode?: SelectMode;
  archiveLosers?: boolean;
}

/** How `conductor merge` lands a workspace. */
export type MergeMethod = (typeof MERGE_METHODS)[number];
/** Default merge method. */
export const DEFAULT_MERGE_METHOD: MergeMethod = "merge";

/** Default branch name template. */
export const DEFAULT_BRANCH_TEMPLATE = "conductor/{{task}}";
/** Default number of consecutive ports per workspace. */
export const DEFAULT_PORTS_PER_WORKSPACE = 10;
/** Default longest run of the agent in one workspace. */
export const DEFAULT_AGENT_TIMEOUT_MS = 60 * 60_000;
/** Default time an agent may keep failing to reach its model provider. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 60_000;
/** Default longest run of setup, check and archive scripts. */
export const DEFAULT_SCRIPT_TIMEOUT_MS = 30 * 60_000;
/** Default sandbox for codex. */
export const DEFAULT_SANDBOX: SandboxMode = "workspace-write";

/** Agent settings after defaults; a task's settings are these merged with its overrides. */
export interface AgentConfig {
  kind: AgentKind;
  model: string | undefined;
  sandbox: SandboxMode;
  args: string[];
  /** Codex `-c key=value` overrides, in the order written. */
  config: Record<string, string | number | boolean>;
  /** Shell command (kind command) or agent binary path (codex, claude). */
  command: string | undefined;
  /** kind command: the shell command that reviews a workspace; undefined: none. */
  reviewCommand?: string | undefined;
  timeoutMs: number;
  /** How long the agent may keep failing to reach its provider before it is ended as unreachable. */
  connectTimeoutMs: number;
  /** End the agent after this long without output; undefined: never. */
  idleTimeoutMs: number | undefined;
  /** kind command: the shell command that judges best-of-N candidates. */
  judgeCommand?: string | undefined;
}

/** The scripts of a workspace; undefined means none. */
export type Scripts = Record<ScriptName, string | undefined>;

/** A glob of files copied from the main checkout into every workspace. */
export interface CopyEntry {
  pattern: string;
  mode: CopyMode;
}

/** Where a task's prompt comes from. */
export type PromptSource = { kind: "inline"; text: string } | { kind: "file"; path: string };

/**
 * Where a task starts when it says so (`from:`, `branch:` or `pr:`); absent: from the base, or
 * from its first dependency.
 */
export type TaskStart =
  | { kind: "from"; ref: string }
  | { kind: "branch"; branch: string }
  | { kind: "pr"; number: number };

/** One task after normalization. */
export interface TaskConfig {
  id: string;
  prompt: PromptSource;
  dependsOn: string[];
  attempts: number;
  /** Matrix values as strings, keys in the order written. */
  matrix: Record<string, string[]>;
  env: Record<string, string>;
  /** Overrides the agent's timeout for this task. */
  timeoutMs: number | undefined;
  /** Only the agent fields this task overrides. */
  agent: Partial<AgentConfig>;
  /** Only the scripts this task overrides; `null` disables one. */
  scripts: Partial<Record<ScriptName, string | null>>;
  /** This task's `select:`, when written (absent otherwise, so older plans hash the same). */
  select?: SelectSettings;
  /** Where the task starts, when not from the base (left out otherwise, keeping plan hashes). */
  start?: TaskStart;
  /** The GitHub issue the prompt comes from. */
  issue?: number;
  /** This task's own budget, over all its workspaces; undefined: none. */
  budget: BudgetLimits | undefined;
}

/**
 * The normalized configuration the planner works from: camelCase, defaults applied, durations in
 * milliseconds, shorthands expanded. Values that depend on the machine or repository (default base
 * branch, workspaces folder, CPU count) stay undefined here and are resolved from repository facts.
 */
export interface Config {
  version: 1;
  base: string | undefined;
  concurrency: number | undefined;
  retries: number;
  failFast: boolean;
  env: Record<string, string>;
  workspaces: {
    dir: string | undefined;
    branch: string;
    portsPerWorkspace: number;
    /** Largest file conductor commits, when the config sets it (the plan applies the default). */
    maxFileBytes: number | undefined;
    copy: CopyEntry[];
    context: string[];
    /** `workspaces.seed`; undefined when not configured. */
    seed?: SeedConfig | undefined;
  };
  agent: AgentConfig;
  scripts: Scripts;
  /** `scripts.run_mode`: whether run scripts of several workspaces may run at once; undefined: concurrent. */
  runMode: RunMode | undefined;
  /** Longest time setup, check or archive may run. */
  scriptTimeoutMs: number;
  /** How `conductor merge` lands workspaces. */
  merge: { method: MergeMethod };
  /** `tasks_from.github_issues`: filters of the issues that become tasks at plan time. */
  tasksFrom?: { githubIssues: { label?: string; assignee?: string; limit?: number } };
  /** The top-level `select:`, the default of every task; absent when not written. */
  select?: SelectSettings;
  /** The run's budget; undefined: none. */
  budget: RunBudgetConfig | undefined;
  /** Prices per model, for cost budgets and reports. */
  prices: Prices;
  /** The reviewing agent's settings; undefined when the config has no `review`. */
  review?: ReviewSettings | undefined;
  tasks: TaskConfig[];
}

/** When and with what guidance workspaces are reviewed (`review` in the config). */
export interface ReviewSettings {
  /** Review every workspace after a passing check, in `run` and `continue`. */
  auto: boolean;
  /** Guidance written in the config. */
  instructions?: string;
  /** A file of guidance, relative to the repository root. */
  instructionsFile?: string;
}

/** Default time running agent turns may go on once a budget is reached. */
export const DEFAULT_BUDGET_GRACE_MS = 30_000;

/** The run's budget: its limits and the grace running turns get once one is reached. */
export interface RunBudgetConfig {
  limits: BudgetLimits;
  graceMs: number;
}

/** Applies defaults and converts a validated written config into a {@link Config}. */
export function normalizeConfig(written: WrittenConfig): Config {
  const agent = written.agent ?? {};
  return {
    version: 1,
    base: written.base,
    concurrency: written.concurrency,
    retries: written.retries ?? 0,
    failFast: written.fail_fast ?? false,
    env: stringifyValues(written.env),
    workspaces: {
      dir: written.workspaces?.dir,
      branch: written.workspaces?.branch ?? DEFAULT_BRANCH_TEMPLATE,
      portsPerWorkspace: written.workspaces?.ports ?? DEFAULT_PORTS_PER_WORKSPACE,
      // Left undefined when unset, so that plans (and their hashes) without it stay the same.
      maxFileBytes:
        written.workspaces?.max_file_size === undefined
          ? undefined
          : parseSize(written.workspaces.max_file_size),
      copy: (written.workspaces?.copy ?? []).map((entry) =>
        typeof entry === "string"
          ? { pattern: entry, mode: "copy" }
          : { pattern: entry.path, mode: entry.mode ?? "copy" },
      ),
      context: written.workspaces?.context ?? [],
      // Absent unless configured, so that plans (and their hashes) without it stay the same.
      ...(written.workspaces?.seed === undefined
        ? {}
        : { seed: normalizeSeed(written.workspaces.seed) }),
    },
    agent: {
      kind: agent.kind ?? "codex",
      model: agent.model,
      sandbox: agent.sandbox ?? DEFAULT_SANDBOX,
      args: agent.args ?? [],
      config: agent.config ?? {},
      command: agent.command,
      ...(agent.review_command === undefined ? {} : { reviewCommand: agent.review_command }),
      timeoutMs:
        agent.timeout === undefined ? DEFAULT_AGENT_TIMEOUT_MS : parseDuration(agent.timeout),
      connectTimeoutMs:
        agent.connect_timeout === undefined
          ? DEFAULT_CONNECT_TIMEOUT_MS
          : parseDuration(agent.connect_timeout),
      idleTimeoutMs:
        agent.idle_timeout === undefined ? undefined : parseDuration(agent.idle_timeout),
      ...(agent.judge_command === undefined ? {} : { judgeCommand: agent.judge_command }),
    },
    scripts: {
      setup: written.scripts?.setup,
      check: written.scripts?.check,
      run: written.scripts?.run,
      archive: written.scripts?.archive,
    },
    // Left undefined when unset, so that plans (and their hashes) without it stay the same.
    runMode: written.scripts?.run_mode,
    scriptTimeoutMs:
      written.scripts?.timeout === undefined
        ? DEFAULT_SCRIPT_TIMEOUT_MS
        : parseDuration(written.scripts.timeout),
    merge: { method: written.merge?.method ?? DEFAULT_MERGE_METHOD },
    ...(written.select === undefined ? {} : { select: normalizeSelect(written.select) }),
    ...(written.review === undefined ? {} : { review: reviewSettings(written.review) }),
    budget:
      written.budget === undefined
        ? undefined
        : {
            limits: budgetLimits(written.budget),
            graceMs:
              written.budget.grace === undefined
                ? DEFAULT_BUDGET_GRACE_MS
                : parseDuration(written.budget.grace),
          },
    prices: Object.fromEntries(
      Object.entries(written.prices ?? {}).map(([model, price]) => [
        model,
        {
          input: price.input,
          output: price.output,
          cachedInput: price.cached_input ?? price.input,
        },
      ]),
    ),
    tasks: (written.tasks ?? []).map(normalizeTask),
    ...(written.tasks_from === undefined
      ? {}
      : { tasksFrom: { githubIssues: { ...written.tasks_from.github_issues } } }),
  };
}

/** `select: best` is short for `select: { mode: best }`. */
export function normalizeSelect(written: NonNullable<WrittenConfig["select"]>): SelectSettings {
  if (typeof written === "string") return { mode: written };
  const settings: SelectSettings = {};
  if (written.mode !== undefined) settings.mode = written.mode;
  if (written.archive_losers !== undefined) settings.archiveLosers = written.archive_losers;
  return settings;
}

function normalizeTask(task: WrittenTask): TaskConfig {
  // An issue task may have no prompt of its own: the issue is the prompt.
  const prompt: PromptSource =
    task.prompt_file !== undefined
      ? { kind: "file", path: task.prompt_file }
      : { kind: "inline", text: task.prompt ?? "" };
  return {
    id: task.id,
    prompt,
    dependsOn: task.depends_on ?? [],
    attempts: task.attempts ?? 1,
    matrix: Object.fromEntries(
      Object.entries(task.matrix ?? {}).map(([key, values]) => [key, values.map(String)]),
    ),
    env: stringifyValues(task.env),
    timeoutMs: task.timeout === undefined ? undefined : parseDuration(task.timeout),
    agent: agentOverrides(task.agent),
    scripts: { ...(task.scripts ?? {}) } as TaskConfig["scripts"],
    ...(task.select === undefined ? {} : { select: normalizeSelect(task.select) }),
    budget: task.budget === undefined ? undefined : budgetLimits(task.budget),
    ...taskStart(task),
    ...(task.issue === undefined ? {} : { issue: task.issue }),
  };
}

function taskStart(task: WrittenTask): { start?: TaskStart } {
  if (task.branch !== undefined) return { start: { kind: "branch", branch: task.branch } };
  if (task.pr !== undefined) return { start: { kind: "pr", number: task.pr } };
  if (task.from !== undefined) return { start: { kind: "from", ref: task.from } };
  return {};
}

/** A budget as written (`tokens: 200k`, `agent_time: 2h`) in numbers. */
function budgetLimits(written: {
  tokens?: number | string | undefined;
  cost?: number | undefined;
  agent_time?: string | undefined;
}): BudgetLimits {
  const limits: BudgetLimits = {};
  if (written.tokens !== undefined) limits.tokens = parseTokenCount(written.tokens);
  if (written.cost !== undefined) limits.cost = written.cost;
  if (written.agent_time !== undefined) limits.agentTimeMs = parseDuration(written.agent_time);
  return limits;
}

function agentOverrides(agent: WrittenAgent | undefined): Partial<AgentConfig> {
  if (agent === undefined) return {};
  const overrides: Partial<AgentConfig> = {};
  if (agent.kind !== undefined) overrides.kind = agent.kind;
  if (agent.model !== undefined) overrides.model = agent.model;
  if (agent.sandbox !== undefined) overrides.sandbox = agent.sandbox;
  if (agent.args !== undefined) overrides.args = agent.args;
  if (agent.config !== undefined) overrides.config = agent.config;
  if (agent.command !== undefined) overrides.command = agent.command;
  if (agent.review_command !== undefined) overrides.reviewCommand = agent.review_command;
  if (agent.timeout !== undefined) overrides.timeoutMs = parseDuration(agent.timeout);
  if (agent.connect_timeout !== undefined)
    overrides.connectTimeoutMs = parseDuration(agent.connect_timeout);
  if (agent.idle_timeout !== undefined) overrides.idleTimeoutMs = parseDuration(agent.idle_timeout);
  if (agent.judge_command !== undefined) overrides.judgeCommand = agent.judge_command;
  return overrides;
}

function reviewSettings(review: NonNullable<WrittenConfig["review"]>): ReviewSettings {
  if (typeof review === "string") return { auto: review === "auto" };
  return {
    auto: review.mode === "auto",
    ...(review.instructions === undefined ? {} : { instructions: review.instructions }),
    ...(review.instructions_file === undefined
      ? {}
      : { instructionsFile: review.instructions_file }),
  };
}

function stringifyValues(
  map: Record<string, string | number | boolean> | undefined,
): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).map(([key, value]) => [key, String(value)]));
}
