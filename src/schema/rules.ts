import { normalizeSelect } from "./config.js";
import { branchNameProblem } from "./git-ref.js";
import type { KeyPath } from "./locate.js";
import { repoPathProblem } from "./paths.js";
import { seedPathIssues } from "./seed.js";
import { effectiveSelectMode } from "./select-mode.js";
import { didYouMeanSuffix } from "./suggest.js";
import { placeholderProblem, placeholdersIn } from "./template.js";
import type { WrittenConfig, WrittenTask } from "./written.js";
import type { PathIssue } from "./zod-issues.js";

/** Most workspaces one task may expand to (attempts × matrix combinations). */
export const MAX_WORKSPACES_PER_TASK = 1000;

/**
 * Rules that span several fields and cannot be said in the schema: prompts, unique ids,
 * dependencies (existence and cycles), paths that must stay inside the repository, and
 * template placeholders. Returns every problem found, in file order. `config.tasks` may have
 * holes (tasks the schema rejected, see load.ts), so tasks are walked with forEach, which skips them.
 */
export function checkRules(written: WrittenConfig): PathIssue[] {
  // Without tasks (tasks_from makes them at plan time) every rule sees an empty list.
  const config: RulesConfig = { ...written, tasks: written.tasks ?? [] };
  const issues: PathIssue[] = [];
  const add = (keyPath: KeyPath, message: string, at: "key" | "value" = "value") =>
    issues.push({ keyPath, at, message });

  const firstIndexOf = new Map<string, number>();
  const byId = new Map<string, WrittenTask>();
  config.tasks.forEach((task, index) => {
    const first = firstIndexOf.get(task.id);
    if (first === undefined) {
      firstIndexOf.set(task.id, index);
      byId.set(task.id, task);
    } else
      add(
        ["tasks", index, "id"],
        `duplicate task id "${task.id}" (also tasks[${first}]); ids must be unique`,
      );
  });

  const ids = [...firstIndexOf.keys()];
  config.tasks.forEach((task, index) => {
    checkPrompt(task, index, add);
    checkStart(task, index, add);
    checkDependencies(task, index, ids, byId, config, add);
    checkTaskTemplates(task, index, add);
    const count = workspaceCount(task);
    if (count > MAX_WORKSPACES_PER_TASK) {
      add(
        ["tasks", index],
        `expands to ${count} workspaces (attempts × matrix); at most ${MAX_WORKSPACES_PER_TASK} are allowed per task`,
      );
    }
  });
  if (config.tasks.length === 0 && config.tasks_from === undefined) {
    add(
      ["tasks"],
      "must list at least one task (or set tasks_from to make them from GitHub issues)",
    );
  }
  checkCycles(config, add);
  checkPaths(config, add);
  checkSharedTemplates(config, add);
  checkNulCharacters(config, [], add);
  return issues;
}

/**
 * Every string of the config ends up in a program's arguments, environment or a file name, none
 * of which can carry a NUL character (a YAML "\0" escape writes one): refuse it where it is
 * written instead of failing later when the program cannot be started.
 */
function checkNulCharacters(value: unknown, keyPath: KeyPath, add: Add): void {
  const message = "contains a NUL character (\\0), which no program can be given; remove it";
  if (typeof value === "string") {
    if (value.includes("\0")) add(keyPath, message);
  } else if (Array.isArray(value)) {
    // forEach skips the holes of `tasks` (see checkRules).
    value.forEach((item, index) => {
      checkNulCharacters(item, [...keyPath, index], add);
    });
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes("\0")) add([...keyPath, key], message, "key");
      else checkNulCharacters(item, [...keyPath, key], add);
    }
  }
}

/** A written config whose task list is there (empty when left out). */
type RulesConfig = WrittenConfig & { tasks: WrittenTask[] };

type Add = (keyPath: KeyPath, message: string, at?: "key" | "value") => void;

/** How many workspaces a task expands to. */
export function workspaceCount(task: WrittenTask): number {
  const combinations = Object.values(task.matrix ?? {}).reduce(
    (product, values) => product * values.length,
    1,
  );
  return (task.attempts ?? 1) * combinations;
}

/** The select mode of a written task (see {@link effectiveSelectMode}). */
function selectModeOf(task: WrittenTask, config: WrittenConfig) {
  const own = task.select === undefined ? undefined : normalizeSelect(task.select).mode;
  const fallback = config.select === undefined ? undefined : normalizeSelect(config.select).mode;
  return effectiveSelectMode(own, fallback, workspaceCount(task));
}

function checkPrompt(task: WrittenTask, index: number, add: Add): void {
  if (task.prompt !== undefined && task.prompt_file !== undefined) {
    add(["tasks", index, "prompt_file"], "set either prompt or prompt_file, not both");
  } else if (
    task.prompt === undefined &&
    task.prompt_file === undefined &&
    task.issue === undefined
  ) {
    add(
      ["tasks", index],
      `task "${task.id}" needs a prompt: add prompt: "..." or prompt_file: path`,
    );
  }
}

/** `from`, `branch` and `pr` each say where the task starts: one of them, and no dependency. */
function checkStart(task: WrittenTask, index: number, add: Add): void {
  const given = (["from", "branch", "pr"] as const).filter((key) => task[key] !== undefined);
  if (given.length > 1) {
    add(
      ["tasks", index, given[1] as string],
      `set only one of ${given.join(", ")}: each says where the task starts`,
    );
  }
  if (task.from?.startsWith("-")) add(["tasks", index, "from"], "must not start with '-'");
  const [start] = given;
  if (start !== undefined && (task.depends_on?.length ?? 0) > 0) {
    add(
      ["tasks", index, start],
      "a task with depends_on starts from its dependency's branch; remove one of the two",
    );
  }
  if (task.branch !== undefined) {
    const problem = branchNameProblem(task.branch);
    if (problem) add(["tasks", index, "branch"], `"${task.branch}" ${problem}`);
    const count = workspaceCount(task);
    if (count > 1) {
      add(
        ["tasks", index, "branch"],
        `expands to ${count} workspaces (attempts or matrix), which cannot all continue on one branch; use from: to start each on its own branch`,
      );
    }
  }
}

function checkDependencies(
  task: WrittenTask,
  index: number,
  ids: readonly string[],
  byId: ReadonlyMap<string, WrittenTask>,
  config: WrittenConfig,
  add: Add,
): void {
  const seen = new Set<string>();
  (task.depends_on ?? []).forEach((dependency, position) => {
    const keyPath = ["tasks", index, "depends_on", position];
    if (dependency === task.id) {
      add(keyPath, `task "${task.id}" cannot depend on itself`);
    } else if (!byId.has(dependency)) {
      add(
        keyPath,
        `depends on "${dependency}", which is not a task id.${didYouMeanSuffix(dependency, ids)}`,
      );
    } else if (seen.has(dependency)) {
      add(keyPath, `lists "${dependency}" twice`);
    } else {
      const target = byId.get(dependency);
      if (target && selectModeOf(target, config) === "manual" && workspaceCount(target) > 1) {
        add(
          keyPath,
          `depends on "${dependency}", which expands to ${workspaceCount(target)} workspaces (attempts or matrix) and picks no winner (select: manual); ` +
            `a dependency must produce exactly one branch to start from: set select: best or first-passing on "${dependency}"`,
        );
      }
    }
    seen.add(dependency);
  });
}

/** Reports each dependency cycle once, naming the whole cycle. */
function checkCycles(config: RulesConfig, add: Add): void {
  // First occurrence wins, matching how duplicate ids are reported.
  const indexOf = new Map<string, number>();
  config.tasks.forEach((task, index) => {
    if (!indexOf.has(task.id)) indexOf.set(task.id, index);
  });
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (id: string): void => {
    state.set(id, "visiting");
    stack.push(id);
    const index = indexOf.get(id) as number;
    const dependencies = config.tasks[index]?.depends_on ?? [];
    dependencies.forEach((dependency, position) => {
      if (dependency === id || !indexOf.has(dependency)) return;
      const dependencyState = state.get(dependency);
      if (dependencyState === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(dependency)), dependency];
        add(
          ["tasks", index, "depends_on", position],
          `dependency cycle: ${cycle.join(" → ")}; remove one of these depends_on entries`,
        );
      } else if (dependencyState === undefined) {
        visit(dependency);
      }
    });
    stack.pop();
    state.set(id, "done");
  };
  config.tasks.forEach((task) => {
    if (!state.has(task.id)) visit(task.id);
  });
}

function checkPaths(config: RulesConfig, add: Add): void {
  config.workspaces?.copy?.forEach((entry, index) => {
    const written = typeof entry === "string" ? entry : entry.path;
    const keyPath =
      typeof entry === "string"
        ? ["workspaces", "copy", index]
        : ["workspaces", "copy", index, "path"];
    const problem = repoPathProblem(written);
    if (problem) add(keyPath, `"${written}" ${problem}`);
  });
  config.workspaces?.context?.forEach((written, index) => {
    const problem = repoPathProblem(written);
    if (problem) add(["workspaces", "context", index], `"${written}" ${problem}`);
  });
  for (const issue of seedPathIssues(config.workspaces?.seed)) add(issue.keyPath, issue.message);
  if (typeof config.review === "object" && config.review.instructions_file !== undefined) {
    const written = config.review.instructions_file;
    const problem = repoPathProblem(written);
    if (problem) add(["review", "instructions_file"], `"${written}" ${problem}`);
  }
  config.tasks.forEach((task, index) => {
    if (task.prompt_file === undefined) return;
    const problem = repoPathProblem(task.prompt_file);
    if (problem) add(["tasks", index, "prompt_file"], `"${task.prompt_file}" ${problem}`);
  });
}

function checkTaskTemplates(task: WrittenTask, index: number, add: Add): void {
  const matrixKeys = Object.keys(task.matrix ?? {});
  if (task.prompt !== undefined) {
    checkTemplate(task.prompt, matrixKeys, ["tasks", index, "prompt"], add);
  }
  for (const [name, value] of Object.entries(task.env ?? {})) {
    if (typeof value === "string")
      checkTemplate(value, matrixKeys, ["tasks", index, "env", name], add);
  }
}

/** Templates written once for all tasks must be fillable for every task. */
function checkSharedTemplates(config: RulesConfig, add: Add): void {
  const shared: [KeyPath, string][] = [];
  if (config.workspaces?.branch !== undefined)
    shared.push([["workspaces", "branch"], config.workspaces.branch]);
  for (const [name, value] of Object.entries(config.env ?? {})) {
    if (typeof value === "string") shared.push([["env", name], value]);
  }
  for (const [keyPath, text] of shared) {
    const reported = new Set<string>();
    config.tasks.forEach((task) => {
      for (const name of placeholdersIn(text)) {
        const problem = placeholderProblem(name, Object.keys(task.matrix ?? {}));
        if (problem === undefined || reported.has(name)) continue;
        reported.add(name);
        add(keyPath, name.startsWith("matrix.") ? `${problem} (task "${task.id}")` : problem);
      }
    });
  }
}

function checkTemplate(
  text: string,
  matrixKeys: readonly string[],
  keyPath: KeyPath,
  add: Add,
): void {
  for (const name of placeholdersIn(text)) {
    const problem = placeholderProblem(name, matrixKeys);
    if (problem) add(keyPath, problem);
  }
}
