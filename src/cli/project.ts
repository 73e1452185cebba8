import { existsSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "../errors.js";
import { runIdsOf } from "../executor/run-select.js";
import { relativeInside } from "../fs/is-inside.js";
import { askRepoDefaults, findRepositoryRoot, gatherRepoFacts } from "../git/facts.js";
import { branchesCheckedOutElsewhere, resolveStartPoints } from "../git/start-points.js";
import { buildPlan, PlanError } from "../planner/plan.js";
import type { Plan, RepoFacts, Shard } from "../planner/types.js";
import { gatherIssueFacts } from "../review/github-issues.js";
import { missingContextFiles } from "../schema/context-files.js";
import { copiedFileProblems } from "../schema/copied-files.js";
import { type LoadedConfig, loadConfigFile, unreadableConfigError } from "../schema/load.js";
import { readPromptFiles } from "../schema/prompt-files.js";
import { readRepoSettings } from "../schema/repo-settings.js";
import { worktreeOwner } from "./worktree-owner.js";

/** Name of the configuration file conductor looks for. */
export const CONFIG_FILE_NAME = "conductor.yaml";

/** A loaded configuration with the repository facts and prompt files needed to plan it. */
export interface Project {
  loaded: LoadedConfig;
  /** The config file as runs record it (see {@link configFileKey}). */
  configFile: string;
  facts: RepoFacts;
  promptFiles: Record<string, string>;
}

/** Options every command that reads the config accepts. */
export interface ConfigOptions {
  config?: string | undefined;
}

/**
 * Finds the configuration file: `-c FILE` when given, else conductor.yaml in the current folder,
 * else at the repository root.
 */
export function findConfigFile(
  cwd: string,
  root: string | undefined,
  explicit: string | undefined,
): string {
  if (explicit !== undefined) return path.resolve(cwd, explicit);
  const here = path.join(cwd, CONFIG_FILE_NAME);
  if (existsSync(here) || root === undefined) return here;
  const atRoot = path.join(root, CONFIG_FILE_NAME);
  return existsSync(atRoot) ? atRoot : here;
}

/**
 * How runs name their config file: relative to the repository root with `/` separators, or the
 * absolute path of a file outside the repository.
 */
export function configFileKey(root: string, file: string): string {
  const relative = relativeInside(root, file);
  return relative === undefined || relative === "" ? file : relative.split(path.sep).join("/");
}

/** The config file whose runs a command reads. */
export interface RunsConfig {
  /** As runs record it (see {@link configFileKey}). */
  key: string;
  /** As messages name it: a path that works from the current folder. */
  shown: string;
}

/**
 * The config file a command that reads runs uses (`-c`, else the default lookup). A `-c FILE`
 * that cannot be read and that no run was made from is refused up front, as `run` refuses it:
 * otherwise the command would report that the file has no runs and suggest a `run` that fails
 * on it. A file deleted after runs were made from it still names them.
 */
export async function configOfRuns(
  cwd: string,
  root: string,
  options: ConfigOptions,
): Promise<RunsConfig> {
  const file = findConfigFile(cwd, root, options.config);
  const key = configFileKey(root, file);
  const shown = displayPath(cwd, file);
  if (options.config !== undefined) {
    const unreadable = await unreadableConfigError(file, shown);
    if (unreadable !== undefined && (await runIdsOf(root, key)).length === 0) throw unreadable;
  }
  return { key, shown };
}

/** A recorded config file (see {@link configFileKey}) as a path that works from the current folder. */
export function shownConfigPath(root: string, key: string): string {
  return displayPath(process.cwd(), path.resolve(root, key));
}

/** Shown in messages: the file relative to the current folder when that is shorter. */
export function displayPath(cwd: string, file: string): string {
  const relative = relativeInside(cwd, file);
  return relative !== undefined && relative !== "" && relative.length < file.length
    ? relative
    : file;
}

/** Loads config, repository facts and prompt files, and checks context and copied files; every problem is a typed error with exit code 2. */
export async function loadProject(cwd: string, options: ConfigOptions): Promise<Project> {
  const root = await findRepositoryRoot(cwd);
  // Git answers what it can without the config while the config is read and checked.
  const defaults = askRepoDefaults(root);
  const file = findConfigFile(cwd, root, options.config);
  let contents: Record<string, string> = {};
  let facts: RepoFacts | undefined;
  const loaded = await loadConfigFile(
    file,
    displayPath(cwd, file),
    await readRepoSettings(root),
    async (config, rulesFailed) => {
      // A repository that cannot be used (no commits yet) is said before the files it lacks.
      if (!rulesFailed) facts = await gatherRepoFacts(root, config.base, defaults);
      const prompts = await readPromptFiles(config, root);
      contents = prompts.contents;
      return [
        ...prompts.problems,
        ...(await missingContextFiles(config, root)),
        ...(await copiedFileProblems(config, root)),
      ];
    },
  );
  facts ??= await gatherRepoFacts(root, loaded.config.base, defaults);
  // Problems of the file itself came first: GitHub is asked only about a config that is valid.
  const resolved = await resolveStartPoints(root, loaded.config.tasks);
  const github = await gatherIssueFacts(root, loaded.config);
  const problems = [...resolved.problems, ...github.problems];
  if (problems.length > 0) throw new ConfigError(loaded.toConfigIssues(problems));
  return {
    loaded,
    configFile: configFileKey(root, file),
    facts: {
      ...facts,
      starts: resolved.starts,
      issues: github.issues,
      ...(github.issueList === undefined ? {} : { issueList: github.issueList }),
    },
    promptFiles: contents,
  };
}

/** Plans a loaded project; planning problems are reported at their place in the config file. */
export function planProject(
  project: Project,
  selection: {
    runId?: string | undefined;
    taskPatterns?: readonly string[];
    shard?: Shard | undefined;
  } = {},
): Plan {
  let plan: Plan;
  try {
    plan = buildPlan({
      config: project.loaded.config,
      facts: project.facts,
      promptFiles: project.promptFiles,
      runId: selection.runId,
      configFile: project.configFile,
      taskPatterns: selection.taskPatterns ?? [],
      shard: selection.shard,
    });
  } catch (error) {
    if (error instanceof PlanError)
      throw new ConfigError(project.loaded.toConfigIssues(error.problems));
    throw error;
  }
  const taken = branchesCheckedOutElsewhere(
    plan,
    project.loaded.config.tasks,
    project.facts.starts,
    (worktree) => worktreeOwner(plan.repo.root, worktree),
  );
  if (taken.length > 0) throw new ConfigError(project.loaded.toConfigIssues(taken));
  return plan;
}
