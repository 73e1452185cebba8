import { Command } from "commander";
import { StateError, UsageError } from "../../errors.js";
import { isRunLive, loadRun } from "../../executor/load-run.js";
import { chooseRunId } from "../../executor/run-select.js";
import { listRunIds, newRunId } from "../../executor/run-store.js";
import type { RunState } from "../../executor/types.js";
import { conductorCommand, currentInvocation } from "../../hint/command.js";
import { planChanges } from "../../planner/plan-changes.js";
import { parseShard } from "../../planner/shard.js";
import type { Plan } from "../../planner/types.js";
import { globalOptions } from "../global-options.js";
import { parseOutputMode } from "../output.js";
import { assertPreflight, preloadPreflight } from "../preflight.js";
import { loadProject, type Project, planProject, shownConfigPath } from "../project.js";
import { namedRun } from "../run-choice.js";
import { renderPlan } from "./plan.js";

interface RunOptions {
  shard?: string;
  concurrency?: string;
  dryRun?: boolean;
  resume?: string | boolean;
  /** The run to resume, as every command that reads a run takes it. */
  run?: string;
  output: string;
  failFast?: boolean;
  /** false with --no-preflight. */
  preflight: boolean;
}

/** `conductor run`: plans and executes the workspaces, with live status. */
export function runCommand(): Command {
  return new Command("run")
    .description("create a workspace per task and run the agents in parallel")
    .argument("[tasks...]", "task ids or globs (plus what they depend on); default: all")
    .option("--shard <i/n>", "run only the i-th of n CI shards")
    .option("--concurrency <n>", "workspaces at once (default: config, else CPU count)")
    .option("--dry-run", "show the plan and create nothing")
    .option(
      "--resume [run-id]",
      "continue a run (default: the latest of the config in use): only workspaces that did not succeed",
    )
    .option("--run <id>", "with --resume: the run to resume (run id or a unique prefix)")
    .option(
      "--output <mode>",
      "auto (live view on a terminal, plain otherwise), tty, plain or json",
      "auto",
    )
    .option("--fail-fast", "on the first failure, start nothing new and cancel running work")
    .option(
      "--no-preflight",
      "skip the checks of agents, credentials and disk before anything is created",
    )
    .addHelpText(
      "after",
      "\nRunning a file again starts a new run. Branches an earlier finished run still holds are kept\n" +
        "as refs/conductor/runs/<run>/<workspace> (uncommitted work of their worktrees as\n" +
        "refs/conductor/saved/<run>/<workspace>/retired), their worktrees removed, and the new run\n" +
        "takes the names; one line says what was kept where. A run that is still live is refused\n" +
        "(exit 2). --resume reads the latest run of the config in use unless given an id.\n" +
        "\nExit codes: 0 every workspace succeeded, 1 some failed, 2 usage or configuration error, 130 interrupted.",
    )
    .action(async (tasks: string[], options: RunOptions, command: Command) => {
      const resume = resumeOf(options);
      const output = parseOutputMode(options.output);
      const concurrency = parseConcurrency(options.concurrency);
      const global = globalOptions(command);
      // The executor's modules (half of what `run` loads) load while git answers the questions
      // of loading and planning, instead of before the first of them.
      const executing = options.dryRun ? undefined : import("../execute.js");
      void executing?.catch(() => undefined); // awaited below; a config error may come first
      if (options.preflight) preloadPreflight();
      const project = await loadProject(process.cwd(), global);
      const { plan, previous } =
        resume === undefined
          ? { plan: newPlan(project, tasks, options.shard), previous: undefined }
          : await resumedPlan(project, resume, tasks, options.shard);
      if (options.dryRun) process.stdout.write(renderPlan(plan));
      const ready = options.preflight
        ? assertPreflight(plan, runAgain(tasks, options))
        : Promise.resolve();
      if (executing === undefined) {
        await ready;
        const checked = options.preflight ? "; preflight passed" : "";
        process.stdout.write(`(dry run: nothing was created${checked})\n`);
        return;
      }
      void ready.catch(() => undefined); // executePlan awaits it before anything is changed
      const { executePlan, finishRun } = await executing;
      const state = await executePlan({
        ready,
        plan,
        output,
        concurrency,
        failureMode: options.failFast || plan.failFast ? "stop" : "continue",
        previous,
      });
      process.exitCode = finishRun(state, output);
    });
}

/**
 * Whether a later run of the file set this run aside (or its workspaces were archived): what did
 * not succeed has no worktree or branch name left to go on in, and its resume hint went stale.
 */
function setAside(run: RunState): boolean {
  const unfinished = Object.values(run.workspaces).filter(
    (workspace) => workspace.status !== "succeeded",
  );
  return unfinished.length > 0 && unfinished.every((workspace) => workspace.archived !== undefined);
}

/** The latest run of the config in use, other than `latest`, that a resume would continue. */
async function resumableRun(project: Project, latest: string): Promise<RunState | undefined> {
  const root = project.facts.root;
  for (const id of listRunIds(root).reverse()) {
    if (id === latest) continue;
    const run = await loadRun(root, id).catch(() => undefined);
    if (run === undefined || (run.plan.configFile ?? "conductor.yaml") !== project.configFile) {
      continue;
    }
    if (run.status !== "succeeded" && !isRunLive(run) && !setAside(run)) return run;
  }
  return undefined;
}

/** This `run` command line, as given (global options aside), for hints that repeat it. */
function runAgain(tasks: readonly string[], options: RunOptions): string[] {
  const given = (flag: string, value: string | undefined) =>
    value === undefined ? [] : [flag, value];
  return [
    "run",
    ...tasks,
    ...given("--shard", options.shard),
    ...(options.resume === true ? ["--resume"] : given("--resume", options.resume || undefined)),
    ...given("--run", options.run),
    ...given("--concurrency", options.concurrency),
    ...(options.failFast ? ["--fail-fast"] : []),
    ...(options.dryRun ? ["--dry-run"] : []),
    ...(options.output === "auto" ? [] : ["--output", options.output]),
  ];
}

/** What `--resume [run-id]` and `--run <id>` ask to resume; `--run` alone would be ignored. */
function resumeOf(options: RunOptions): string | boolean | undefined {
  if (options.run === undefined) return options.resume;
  if (options.resume === undefined) {
    throw new UsageError(`--run ${options.run} names a run to resume: add --resume`, {
      hint: `\`${conductorCommand(["run", "--resume", options.run])}\` continues that run; a new run takes no --run.`,
    });
  }
  return namedRun(typeof options.resume === "string" ? options.resume : undefined, options.run);
}

function parseConcurrency(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 256) {
    throw new UsageError(
      `--concurrency ${text} is not a number of workspaces: give a whole number from 1 to 256`,
    );
  }
  return value;
}

function newPlan(project: Project, tasks: readonly string[], shard: string | undefined): Plan {
  return planProject(project, {
    runId: newRunId(new Date()),
    taskPatterns: tasks,
    shard: shard === undefined ? undefined : parseShard(shard),
  });
}

/**
 * The plan of the run being resumed, made again from the config: it must have the same hash,
 * or resuming would mix two different plans in one run.
 */
async function resumedPlan(
  project: Project,
  resume: string | boolean,
  tasks: readonly string[],
  shard: string | undefined,
): Promise<{ plan: Plan; previous: RunState }> {
  if (tasks.length > 0 || shard !== undefined) {
    throw new UsageError(
      "--resume continues a run with its own tasks and shard; do not name tasks or --shard",
    );
  }
  const root = project.facts.root;
  const requested = typeof resume === "string" ? resume : undefined;
  const runId = await chooseRunId(root, {
    run: requested,
    configFile: project.configFile,
    shownAs: shownConfigPath(root, project.configFile),
  });
  const previous = await loadRun(root, runId);
  const madeFrom = previous.plan.configFile ?? "conductor.yaml";
  if (madeFrom !== project.configFile) {
    // Resuming with another file's plan would fail the hash check below with a misleading reason.
    throw new StateError(`run ${runId} was made from ${madeFrom}, not ${project.configFile}`, {
      hint: `Resume it with its own file: \`${conductorCommand(["run", "--resume", runId], { ...currentInvocation(), config: shownConfigPath(root, madeFrom) })}\``,
    });
  }
  if (isRunLive(previous)) {
    throw new StateError(`run ${runId} is still running (process ${previous.pid})`, {
      hint: "Wait for it, or stop it with Ctrl-C / kill first.",
    });
  }
  if (previous.status === "succeeded") {
    // The latest run is the default, but an earlier one of other tasks or another shard may
    // still have work to resume: name it rather than leave the user to look.
    const other = requested === undefined ? await resumableRun(project, runId) : undefined;
    throw new StateError(`run ${runId} already succeeded; there is nothing to resume`, {
      hint:
        other === undefined
          ? `Start a new run with \`${conductorCommand(["run"])}\`.`
          : `Run ${other.runId} (${other.status}) can be resumed: \`${conductorCommand(["run", "--resume", other.runId])}\`.`,
    });
  }
  if (setAside(previous)) {
    throw new StateError(
      `run ${runId} was set aside: its workspaces that did not succeed are archived (a later run of the file took their names, or they were archived); there is nothing to resume`,
      {
        hint: `See what it kept with \`${conductorCommand(["status", "--run", runId])}\`; to go on, resume the latest run with \`${conductorCommand(["run", "--resume"])}\`, or start a new one.`,
      },
    );
  }
  const { taskPatterns, shard: previousShard } = previous.plan.selection;
  const plan = planProject(project, { runId, taskPatterns, shard: previousShard });
  if (plan.hash !== previous.plan.hash) {
    // The new run does the work of this one: its tasks and its shard, not the whole file.
    const again = [
      "run",
      ...taskPatterns,
      ...(previousShard ? ["--shard", `${previousShard.index}/${previousShard.count}`] : []),
    ];
    const changes = planChanges(previous.plan, plan);
    throw new StateError(
      `the plan changed since run ${runId} started (hash ${previous.plan.hash.slice(0, 12)} then, ${plan.hash.slice(0, 12)} now): ${changes.length > 0 ? changes.join("; ") : "conductor.yaml, a prompt file or the base commit differ"}`,
      {
        hint: `Restore them to resume, or start a new run with \`${conductorCommand(again)}\`: it takes the workspace names over and keeps run ${runId}'s branches and work on refs.`,
      },
    );
  }
  return { plan, previous };
}
