import path from "node:path";
import { ConductorError, ExitCode } from "../errors.js";
import { type Config, DEFAULT_BUDGET_GRACE_MS } from "../schema/config.js";
import { branchNameProblem } from "../schema/git-ref.js";
import { placeholderProblem, placeholdersIn } from "../schema/template.js";
import type { PathIssue } from "../schema/zod-issues.js";
import type { BudgetLimits } from "../usage/budget.js";
import { dependencyComponents, taskLevels } from "./dag.js";
import { expandTasks, plainBranchFor, type WorkspaceDraft } from "./expand.js";
import { contentHash, pathHash } from "./hash.js";
import { withIssueTasks } from "./issue-tasks.js";
import { selectTasks } from "./select.js";
import { selectionsOf, splitSelectionProblems } from "./selections.js";
import { partitionIntoShards } from "./shard.js";
import { taskStartPoint } from "./start.js";
import {
  type Plan,
  type PlanBudget,
  type PlanInput,
  type RepoFacts,
  type StartPoint,
  startKey,
  type TaskSelection,
  type Workspace,
} from "./types.js";
import { workspacesDirProblem } from "./workspaces-dir.js";

/** Largest file conductor commits unless `workspaces.max_file_size` says otherwise (10 MB). */
export const DEFAULT_MAX_FILE_BYTES = 10 * 1000 * 1000;

/** Version of the {@link Plan} JSON shape. */
export const PLAN_FORMAT_VERSION = 1;

/**
 * The configuration is valid on its own but cannot be planned (colliding names or branches, bad
 * placeholders in a prompt file). Carries problems keyed by config path; the CLI locates them.
 */
export class PlanError extends ConductorError {
  readonly exitCode = ExitCode.Usage;
  readonly problems: readonly PathIssue[];

  constructor(problems: readonly PathIssue[]) {
    super(problems.map((problem) => problem.message).join("\n"));
    this.problems = problems;
  }
}

/**
 * Turns a config and repository facts into the plan of a run. Pure: no I/O, clock or randomness,
 * so the same input gives the same plan (and hash) on any machine.
 */
export function buildPlan(input: PlanInput): Plan {
  const { facts } = input;
  const problems: PathIssue[] = [];
  // Tasks made from GitHub issues join the file's own, before anything is named or hashed.
  const config = withIssueTasks(input.config, facts, problems);
  const workspacesDir = resolveWorkspacesDir(config, facts);
  problems.push(...promptFileProblems(config, input.promptFiles));
  const dirProblem = workspacesDirProblem(workspacesDir, facts.root);
  if (dirProblem) problems.push(dirProblem);
  const drafts = expandTasks(
    config,
    facts,
    workspacesDir,
    input.promptFiles,
    input.runId,
    problems,
  );
  const selections = selectionsOf(drafts, config, (task) =>
    plainBranchFor(config.workspaces.branch, task, input.runId),
  );
  problems.push(
    ...collisionProblems(drafts),
    ...branchProblems(drafts, selections),
    ...agentProblems(drafts),
    ...winnerBranchProblems(selections, config),
    ...priceProblems(drafts, config),
  );
  const starts = config.tasks.map((task, index) => taskStartPoint(task, index, facts, problems));
  if (problems.length > 0) throw new PlanError(problems);

  const all = linkWorkspaces(drafts, config, starts, selections);
  const taskPatterns = [...(input.taskPatterns ?? [])];
  const selectedIds = selectTasks(config.tasks, taskPatterns);
  let chosen = selectedIds;
  if (input.shard) {
    const countByTask = new Map<string, number>();
    for (const workspace of all)
      countByTask.set(workspace.taskId, (countByTask.get(workspace.taskId) ?? 0) + 1);
    const selectedTasks = config.tasks.filter((task) => selectedIds.has(task.id));
    const units = dependencyComponents(selectedTasks).map((component) => ({
      taskIds: component.map((task) => task.id),
      weight: component.reduce((sum, task) => sum + (countByTask.get(task.id) ?? 0), 0),
      firstIndex: config.tasks.indexOf(component[0] as (typeof config.tasks)[number]),
    }));
    const shards = partitionIntoShards(units, input.shard.count);
    // Dependents start from a winner picked among all candidates: a shard with only part of
    // such a group could neither pick it nor start them.
    const split = splitSelectionProblems(shards, selections);
    if (split.length > 0) throw new PlanError(split);
    chosen = new Set(shards[input.shard.index - 1]);
  }
  // portBlock is the position in the whole plan, so it doubles as the stable secondary order.
  const workspaces = all
    .filter((workspace) => chosen.has(workspace.taskId))
    .sort((a, b) => a.level - b.level || a.portBlock - b.portBlock);

  const budget = planBudget(config, workspaces);
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    hash: planHash(config, facts, input.promptFiles),
    repo: { root: facts.root, name: facts.name, defaultBranch: facts.defaultBranch },
    base: { ref: facts.baseRef, commit: facts.baseCommit },
    runId: input.runId,
    configFile: input.configFile,
    workspacesDir,
    portsPerWorkspace: config.workspaces.portsPerWorkspace,
    ...(config.runMode === undefined ? {} : { runMode: config.runMode }),
    maxFileBytes: config.workspaces.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    concurrency: config.concurrency,
    retries: config.retries,
    failFast: config.failFast,
    copy: config.workspaces.copy,
    context: config.workspaces.context,
    ...(config.workspaces.seed === undefined ? {} : { seed: config.workspaces.seed }),
    ...(config.review === undefined ? {} : { review: config.review }),
    ...(budget === undefined ? {} : { budget }),
    workspaces,
    levels: levelsOf(workspaces),
    ...selectionsField(selections, chosen),
    selection: { taskPatterns, shard: input.shard, totalWorkspaces: all.length },
  };
}

/**
 * The plan hash covers everything that changes what a run does: the normalized config (minus
 * concurrency, which only changes how fast), the base commit and the prompt files' contents.
 * Paths of this machine are left out so that every CI shard computes the same hash.
 */
export function planHash(
  config: Config,
  facts: RepoFacts,
  promptFiles: Readonly<Record<string, string>>,
): string {
  // run_mode only decides how `serve` treats other servers, not what a run does; budgets and
  // prices only when a run stops: raising a budget must let a resume go on.
  const {
    concurrency: _speedOnly,
    runMode: _serveOnly,
    budget: _limit,
    prices: _prices,
    ...behaviour
  } = config;
  // canonicalJson sorts map keys, but the order of matrix keys names and orders the workspaces, so
  // matrices are hashed as lists of entries.
  const tasks = behaviour.tasks.map(({ budget: _taskLimit, ...task }) => ({
    ...task,
    matrix: Object.entries(task.matrix),
  }));
  // A `from:` or `pr:` that moves changes the plan. A `branch:` does not: the run's own commits
  // move it, and a resume must still find the same plan. An issue changes it when it is edited.
  const starts: Record<string, string> = {};
  for (const task of config.tasks) {
    if (task.start === undefined || task.start.kind === "branch") continue;
    const key = startKey(task.start);
    const commit = facts.starts?.[key]?.commit;
    if (commit !== undefined) starts[key] = commit;
  }
  const issues = Object.fromEntries(
    Object.values(facts.issues ?? {}).map((issue) => [String(issue.number), issue.updatedAt]),
  );
  return contentHash({
    formatVersion: PLAN_FORMAT_VERSION,
    config: { ...behaviour, tasks },
    base: facts.baseCommit,
    promptFiles,
    // Present only when used, so that plans without them keep their hashes.
    ...(Object.keys(starts).length > 0 ? { starts } : {}),
    ...(Object.keys(issues).length > 0 ? { issues } : {}),
  });
}

/**
 * `workspaces.dir` with `~` and repository-relative paths resolved. By default outside the
 * repository, in `~/.conductor/workspaces/<repo-name>-<hash of its path>`: two clones with the
 * same folder name must not share (and fight over) one folder.
 */
export function resolveWorkspacesDir(config: Config, facts: RepoFacts): string {
  const dir = config.workspaces.dir;
  if (dir === undefined) {
    const folder = `${facts.name}-${pathHash(facts.root)}`;
    return path.join(facts.homeDir, ".conductor", "workspaces", folder);
  }
  if (dir === "~" || dir.startsWith("~/")) return path.join(facts.homeDir, dir.slice(1));
  return path.resolve(facts.root, dir);
}

function promptFileProblems(
  config: Config,
  promptFiles: Readonly<Record<string, string>>,
): PathIssue[] {
  const problems: PathIssue[] = [];
  config.tasks.forEach((task, index) => {
    if (task.prompt.kind !== "file") return;
    const text = promptFiles[task.prompt.path];
    const keyPath = ["tasks", index, "prompt_file"];
    if (text === undefined) {
      problems.push({
        keyPath,
        at: "value",
        message: `prompt file "${task.prompt.path}" was not read`,
      });
      return;
    }
    if (text.trim() === "") {
      problems.push({
        keyPath,
        at: "value",
        message: `prompt file "${task.prompt.path}" is empty`,
      });
    }
    for (const name of placeholdersIn(text)) {
      const problem = placeholderProblem(name, Object.keys(task.matrix));
      if (problem)
        problems.push({ keyPath, at: "value", message: `in "${task.prompt.path}": ${problem}` });
    }
  });
  return problems;
}

/** The plan's budgets, for the selected tasks only; undefined without budgets or prices. */
function planBudget(config: Config, workspaces: readonly Workspace[]): PlanBudget | undefined {
  const selected = new Set(workspaces.map((workspace) => workspace.taskId));
  const tasks = Object.fromEntries(
    config.tasks
      .filter((task) => task.budget !== undefined && selected.has(task.id))
      .map((task) => [task.id, task.budget as BudgetLimits]),
  );
  const hasPrices = Object.keys(config.prices).length > 0;
  if (config.budget === undefined && Object.keys(tasks).length === 0 && !hasPrices)
    return undefined;
  return {
    ...(config.budget === undefined ? {} : { run: config.budget.limits }),
    tasks,
    graceMs: config.budget?.graceMs ?? DEFAULT_BUDGET_GRACE_MS,
    prices: config.prices,
  };
}

/**
 * A cost budget needs the price of every model its workspaces use: without one, the spending
 * could not be known. Reported once per task.
 */
function priceProblems(drafts: readonly WorkspaceDraft[], config: Config): PathIssue[] {
  const problems: PathIssue[] = [];
  // A task without a model is named once; a model without a price once, however many use it.
  const reported = new Set<string>();
  for (const draft of drafts) {
    const taskCost = draft.task.budget?.cost !== undefined;
    if (config.budget?.limits.cost === undefined && !taskCost) continue;
    const where = taskCost ? `task "${draft.task.id}" has a cost budget` : "budget.cost is set";
    const keyPath = taskCost ? ["tasks", draft.taskIndex, "budget", "cost"] : ["budget", "cost"];
    const model = draft.agent.model;
    if (model === undefined) {
      if (reported.has(`task:${draft.task.id}`)) continue;
      reported.add(`task:${draft.task.id}`);
      problems.push({
        keyPath,
        at: "value",
        message: `${where}, but task "${draft.task.id}" names no model to price: set agent.model (and its price under prices)`,
      });
    } else if (config.prices[model] === undefined && !reported.has(`model:${model}`)) {
      reported.add(`model:${model}`);
      problems.push({
        keyPath,
        at: "value",
        message: `${where}, but model "${model}" (used by task "${draft.task.id}") has no price: add prices: { ${model}: { input: <$ per 1M tokens>, output: <$ per 1M tokens> } }`,
      });
    }
  }
  return problems;
}

/** A `command` agent needs its command; reported once per task. */
function agentProblems(drafts: readonly WorkspaceDraft[]): PathIssue[] {
  const problems: PathIssue[] = [];
  const reported = new Set<number>();
  for (const draft of drafts) {
    if (
      draft.agent.kind !== "command" ||
      draft.agent.command !== undefined ||
      reported.has(draft.taskIndex)
    )
      continue;
    reported.add(draft.taskIndex);
    problems.push({
      keyPath: ["tasks", draft.taskIndex],
      at: "value",
      message: `task "${draft.task.id}" uses agent kind command but no agent.command is set; set agent.command to the shell command that does the work`,
    });
  }
  return problems;
}

function collisionProblems(drafts: readonly WorkspaceDraft[]): PathIssue[] {
  const problems: PathIssue[] = [];
  const byName = new Map<string, WorkspaceDraft>();
  for (const draft of drafts) {
    const earlier = byName.get(draft.name);
    if (earlier && earlier.task !== draft.task) {
      problems.push({
        keyPath: ["tasks", draft.taskIndex, "id"],
        at: "value",
        message: `workspace name "${draft.name}" is also a workspace of task "${earlier.task.id}"; rename one of the tasks`,
      });
    } else if (earlier) {
      problems.push({
        keyPath: ["tasks", draft.taskIndex, "matrix"],
        at: "value",
        message: `two matrix cells of "${draft.task.id}" give the same workspace name "${draft.name}"; make the values differ by more than punctuation or case`,
      });
    }
    byName.set(draft.name, draft);
  }
  return problems;
}

/** The plan's `selections` of the chosen tasks; left out when there are none (older hashes, JSON). */
function selectionsField(
  selections: readonly TaskSelection[],
  chosen: ReadonlySet<string>,
): Pick<Plan, "selections"> {
  const kept = selections.filter((selection) => chosen.has(selection.taskId));
  return kept.length === 0 ? {} : { selections: kept };
}

/** A task its dependents start from must have a plain branch name for its winner to take. */
function winnerBranchProblems(selections: readonly TaskSelection[], config: Config): PathIssue[] {
  return selections
    .filter((selection) => selection.branch === undefined && selection.dependents.length > 0)
    .map((selection) => ({
      keyPath: ["tasks", config.tasks.findIndex((task) => task.id === selection.taskId)],
      at: "value" as const,
      message: `tasks ${selection.dependents.map((id) => `"${id}"`).join(", ")} start from the winner of "${selection.taskId}", but the branch template "${config.workspaces.branch}" names the attempt or a matrix key, so the winner has no branch name of its own; use a template without {{attempt}} and {{matrix.*}}, or set select: manual and depend on a single task`,
    }));
}

function branchProblems(
  drafts: readonly WorkspaceDraft[],
  selections: readonly TaskSelection[] = [],
): PathIssue[] {
  const problems: PathIssue[] = [];
  const byBranch = new Map<string, WorkspaceDraft>();
  for (const draft of drafts) {
    const problem = branchNameProblem(draft.branch);
    if (problem) {
      problems.push({
        keyPath: ["workspaces", "branch"],
        at: "value",
        message: `gives the branch name "${draft.branch}" for workspace "${draft.name}", which ${problem}`,
      });
    }
    const earlier = byBranch.get(draft.branch);
    // Workspaces with the same name are reported by collisionProblems; their branches follow.
    if (earlier && earlier.name !== draft.name) {
      problems.push({
        keyPath: ["workspaces", "branch"],
        at: "value",
        message: `gives the same branch "${draft.branch}" to workspaces "${earlier.name}" and "${draft.name}"; include {{task}} in the template`,
      });
    }
    byBranch.set(draft.branch, draft);
  }
  // The winner's name is taken when it wins: no workspace may have it before.
  for (const selection of selections) {
    const holder = selection.branch === undefined ? undefined : byBranch.get(selection.branch);
    if (holder && holder.task.id !== selection.taskId) {
      problems.push({
        keyPath: ["workspaces", "branch"],
        at: "value",
        message: `gives workspace "${holder.name}" the branch "${selection.branch}", which the winner of "${selection.taskId}" takes; rename one of the tasks`,
      });
    }
  }
  // Git keeps refs as files: conductor/api and conductor/api/v2 cannot both exist. The names
  // winners take count too (a `branch:` task's own branch may nest with one).
  const named = [
    ...selections.flatMap((selection) => {
      const winner = `the winner of "${selection.taskId}"`;
      return selection.branch === undefined
        ? []
        : [{ who: winner, holder: winner, branch: selection.branch }];
    }),
    ...drafts.map((draft) => ({
      who: `workspace "${draft.name}"`,
      holder: `"${draft.name}"`,
      branch: draft.branch,
    })),
  ];
  const holders = new Map(named.map((entry) => [entry.branch, entry.holder]));
  for (const { who, branch } of named) {
    const parts = branch.split("/");
    for (let length = 1; length < parts.length; length++) {
      const parent = parts.slice(0, length).join("/");
      const holder = holders.get(parent);
      if (holder) {
        problems.push({
          keyPath: ["workspaces", "branch"],
          at: "value",
          message: `gives ${who} the branch "${branch}" below the branch "${parent}" of ${holder}, which git cannot have both of`,
        });
      }
    }
  }
  // One message per distinct problem is enough for a template shared by every task.
  return problems.filter(
    (problem, index) => problems.findIndex((p) => p.message === problem.message) === index,
  );
}

/** A dependency as a workspace starts from it: one workspace, or the winner of several. */
type Upstream =
  | { kind: "workspace"; draft: WorkspaceDraft }
  | { kind: "winner"; selection: TaskSelection & { branch: string } };

/** Adds dependencies, levels, start points and port blocks to the drafts. */
function linkWorkspaces(
  drafts: readonly WorkspaceDraft[],
  config: Config,
  starts: readonly StartPoint[],
  selections: readonly TaskSelection[],
): Workspace[] {
  const levels = taskLevels(config.tasks);
  // Validation guarantees a dependency has exactly one workspace, or picks a winner (with a
  // plain branch name, checked above).
  const onlyWorkspaceOf = new Map(drafts.map((draft) => [draft.task.id, draft]));
  const selectionOf = new Map(selections.map((selection) => [selection.taskId, selection]));
  const upstreamOf = (id: string): Upstream => {
    const selection = selectionOf.get(id);
    if (selection?.branch !== undefined)
      return { kind: "winner", selection: { ...selection, branch: selection.branch } };
    return { kind: "workspace", draft: onlyWorkspaceOf.get(id) as WorkspaceDraft };
  };
  return drafts.map((draft, portBlock) => {
    const dependencies = draft.task.dependsOn.map(upstreamOf);
    const [first, ...rest] = dependencies;
    const winners = dependencies.flatMap((dependency) =>
      dependency.kind === "winner" ? [dependency.selection.taskId] : [],
    );
    return {
      name: draft.name,
      taskId: draft.task.id,
      attempt: draft.attempt,
      matrix: draft.matrix,
      branch: draft.branch,
      path: draft.path,
      startPoint:
        first === undefined
          ? (starts[draft.taskIndex] as StartPoint)
          : first.kind === "winner"
            ? { kind: "winner", task: first.selection.taskId, branch: first.selection.branch }
            : { kind: "workspace", workspace: first.draft.name, branch: first.draft.branch },
      mergeBranches: rest.map((dependency) =>
        dependency.kind === "winner" ? dependency.selection.branch : dependency.draft.branch,
      ),
      dependsOn: dependencies.flatMap((dependency) =>
        dependency.kind === "workspace" ? [dependency.draft.name] : [],
      ),
      ...(winners.length === 0 ? {} : { winnerOf: winners }),
      level: levels.get(draft.task.id) ?? 0,
      prompt: draft.prompt,
      promptFile: draft.task.prompt.kind === "file" ? draft.task.prompt.path : undefined,
      agent: draft.agent,
      scripts: draft.scripts,
      scriptTimeoutMs: config.scriptTimeoutMs,
      env: draft.env,
      portBlock,
      ...(draft.task.issue === undefined ? {} : { issue: draft.task.issue }),
      ...(draft.task.start?.kind === "pr" ? { pullRequest: draft.task.start.number } : {}),
    };
  });
}

/** Workspace names by dependency level, level 0 first (as `Plan.levels`). */
export function levelsOf(workspaces: readonly Workspace[]): string[][] {
  const levels: string[][] = [];
  for (const workspace of workspaces) {
    levels[workspace.level] ??= [];
    levels[workspace.level]?.push(workspace.name);
  }
  return levels.filter((level) => level !== undefined);
}
