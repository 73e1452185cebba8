import path from "node:path";
import type {
  AgentConfig,
  Config,
  SandboxMode,
  Scripts,
  SelectMode,
  TaskConfig,
} from "../schema/config.js";
import { effectiveSelectMode } from "../schema/select-mode.js";
import { placeholdersIn, renderTemplate, type TemplateValues } from "../schema/template.js";
import { SANDBOX_MODES } from "../schema/written.js";
import type { PathIssue } from "../schema/zod-issues.js";
import { issuePrompt } from "./start.js";
import type { RepoFacts } from "./types.js";

/** A workspace before dependencies, levels and port blocks are known. */
export interface WorkspaceDraft {
  name: string;
  taskIndex: number;
  task: TaskConfig;
  attempt: number;
  matrix: Record<string, string>;
  branch: string;
  path: string;
  prompt: string;
  agent: AgentConfig;
  scripts: Scripts;
  env: Record<string, string>;
  /** The task's select mode; other than `manual`, its workspaces are candidates for a winner. */
  select: SelectMode;
}

/** Matrix keys that also set the agent setting of the same name. */
const AGENT_MATRIX_KEYS = ["model", "sandbox"] as const;

/** Every matrix cell of a task, first key varying slowest; one empty cell without a matrix. */
export function matrixCells(matrix: Readonly<Record<string, string[]>>): Record<string, string>[] {
  let cells: Record<string, string>[] = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    cells = cells.flatMap((cell) => values.map((value) => ({ ...cell, [key]: value })));
  }
  return cells;
}

/** Lowercase, dash-separated form of a value for use in names: `o4-mini`, `gpt-5.1`. */
export function slug(value: string): string {
  const cleaned = value
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/[-._]{2,}/g, "-")
    .replace(/^[-._]+|[-._]+$/g, "");
  return cleaned === "" ? "x" : cleaned;
}

/**
 * The part of a workspace name after the task id: matrix cells as `-key-value` (only keys with
 * more than one value, so single-value keys do not lengthen names), then `-N` for attempts after
 * the first.
 */
function nameSuffix(task: TaskConfig, cell: Record<string, string>, attempt: number): string {
  const matrixPart = Object.entries(cell)
    .filter(([key]) => (task.matrix[key]?.length ?? 0) > 1)
    .map(([key, value]) => `-${slug(key)}-${slug(value)}`)
    .join("");
  return matrixPart + (attempt > 1 ? `-${attempt}` : "");
}

/**
 * Expands every task into its workspaces with names, branches, merged settings, prompts and
 * environments. Problems (such as a matrix sandbox value codex does not know) are collected.
 */
export function expandTasks(
  config: Config,
  facts: RepoFacts,
  workspacesDir: string,
  promptFiles: Readonly<Record<string, string>>,
  runId: string | undefined,
  problems: PathIssue[],
): WorkspaceDraft[] {
  const drafts: WorkspaceDraft[] = [];
  config.tasks.forEach((task, taskIndex) => {
    const promptTemplate =
      task.prompt.kind === "inline" ? task.prompt.text : (promptFiles[task.prompt.path] ?? "");
    const cells = matrixCells(task.matrix);
    const select = effectiveSelectMode(
      task.select?.mode,
      config.select?.mode,
      cells.length * task.attempts,
    );
    const issue = task.issue === undefined ? undefined : facts.issues?.[String(task.issue)];
    if (task.issue !== undefined && issue === undefined) {
      problems.push({
        keyPath: ["tasks", taskIndex, "issue"],
        at: "value",
        message: `issue #${task.issue} was not read before planning`,
      });
    }
    for (const cell of cells) {
      for (let attempt = 1; attempt <= task.attempts; attempt++) {
        const values: TemplateValues = { task: task.id, attempt, run: runId, matrix: cell };
        const suffix = nameSuffix(task, cell, attempt);
        const name = `${task.id}${suffix}`;
        const agent = mergeAgent(config.agent, task, cell, taskIndex, problems);
        drafts.push({
          name,
          taskIndex,
          task,
          attempt,
          matrix: cell,
          // A task that continues on an existing branch works on that branch itself.
          branch:
            task.start?.kind === "branch"
              ? task.start.branch
              : branchFor(config.workspaces.branch, values, task, suffix, select !== "manual"),
          path: path.join(workspacesDir, name),
          // The issue's own text is not a template: only the task's prompt is filled in.
          prompt:
            issue === undefined
              ? renderTemplate(promptTemplate, values)
              : issuePrompt(issue, renderTemplate(promptTemplate, values)),
          agent,
          scripts: mergeScripts(config.scripts, task),
          env: {
            ...renderValues(config.env, values),
            ...renderValues(task.env, values),
            ...conductorEnv(name, path.join(workspacesDir, name), facts, task.id, attempt, runId),
          },
          select,
        });
      }
    }
  });
  return drafts;
}

/**
 * Renders the branch template. When the template does not tell a task's workspaces apart (no
 * `{{attempt}}` / `{{matrix.KEY}}`), the workspace-name suffix is appended so that the default
 * `conductor/{{task}}` still gives every attempt and matrix cell its own branch. The candidates
 * of a task that picks a winner all get a suffix (`-1` for the first attempt): the plain name is
 * the winner's.
 */
function branchFor(
  template: string,
  values: TemplateValues,
  task: TaskConfig,
  suffix: string,
  selecting: boolean,
): string {
  const rendered = renderTemplate(template, values);
  if (templateNamesWorkspaces(template, task)) return rendered;
  const own = selecting && suffix === "" ? `-${values.attempt}` : suffix;
  return `${rendered}${own}`;
}

/** Whether the template alone gives each workspace of the task its own branch. */
function templateNamesWorkspaces(template: string, task: TaskConfig): boolean {
  const distinguishesAttempts = placeholdersIn(template).includes("attempt") || task.attempts === 1;
  const distinguishesMatrix = Object.entries(task.matrix).every(
    ([key, list]) =>
      list.length === 1 || new RegExp(`\\{\\{\\s*matrix\\.${key}\\s*\\}\\}`).test(template),
  );
  return distinguishesAttempts && distinguishesMatrix;
}

/**
 * The task's plain branch name, which the winner of its candidates takes; undefined when the
 * template names the attempt or a matrix key, so no name stands for the task as a whole.
 */
export function plainBranchFor(
  template: string,
  task: TaskConfig,
  runId: string | undefined,
): string | undefined {
  const names = placeholdersIn(template);
  if (names.some((name) => name === "attempt" || name.startsWith("matrix."))) return undefined;
  return renderTemplate(template, { task: task.id, attempt: 1, run: runId, matrix: {} });
}

function mergeAgent(
  defaults: AgentConfig,
  task: TaskConfig,
  cell: Record<string, string>,
  taskIndex: number,
  problems: PathIssue[],
): AgentConfig {
  const merged: AgentConfig = {
    ...defaults,
    ...task.agent,
    config: { ...defaults.config, ...(task.agent.config ?? {}) },
  };
  if (task.timeoutMs !== undefined) merged.timeoutMs = task.timeoutMs;
  for (const key of AGENT_MATRIX_KEYS) {
    const value = cell[key];
    if (value === undefined) continue;
    if (key === "model") merged.model = value;
    else if ((SANDBOX_MODES as readonly string[]).includes(value))
      merged.sandbox = value as SandboxMode;
    else {
      problems.push({
        keyPath: ["tasks", taskIndex, "matrix", "sandbox"],
        at: "value",
        message: `"${value}" is not a sandbox mode; use ${SANDBOX_MODES.join(", ")}`,
      });
    }
  }
  return merged;
}

function mergeScripts(defaults: Scripts, task: TaskConfig): Scripts {
  const merged: Scripts = { ...defaults };
  for (const [name, value] of Object.entries(task.scripts) as [keyof Scripts, string | null][]) {
    merged[name] = value === null ? undefined : value;
  }
  return merged;
}

function renderValues(
  map: Readonly<Record<string, string>>,
  values: TemplateValues,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(map).map(([key, value]) => [key, renderTemplate(value, values)]),
  );
}

/** The CONDUCTOR_* variables of DESIGN.md, except CONDUCTOR_PORT (assigned at run time). */
function conductorEnv(
  name: string,
  workspacePath: string,
  facts: RepoFacts,
  taskId: string,
  attempt: number,
  runId: string | undefined,
): Record<string, string> {
  const env: Record<string, string> = {
    CONDUCTOR_WORKSPACE_NAME: name,
    CONDUCTOR_WORKSPACE_PATH: workspacePath,
    CONDUCTOR_ROOT_PATH: facts.root,
    CONDUCTOR_DEFAULT_BRANCH: facts.defaultBranch,
    CONDUCTOR_TASK_ID: taskId,
    CONDUCTOR_ATTEMPT: String(attempt),
  };
  if (runId !== undefined) env.CONDUCTOR_RUN_ID = runId;
  return env;
}
