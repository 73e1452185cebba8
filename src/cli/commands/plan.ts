import os from "node:os";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { spentHistory } from "../../executor/history.js";
import { redactPrompts } from "../../executor/redact-event.js";
import { runSecrets } from "../../executor/run-secrets.js";
import { conductorCommand } from "../../hint/command.js";
import { estimatePlan } from "../../planner/estimate.js";
import { githubMatrix, MAX_SHARDS, parseShard } from "../../planner/shard.js";
import type { Plan, Workspace } from "../../planner/types.js";
import { renderEstimate } from "../../report/estimate.js";
import { renderTable } from "../../report/table.js";
import { describeSources, type SettingSource } from "../../schema/settings-layers.js";
import { globalOptions } from "../global-options.js";
import { loadProject, planProject } from "../project.js";

interface PlanOptions {
  json?: boolean;
  estimate?: boolean;
  shard?: string;
  matrix?: string;
}

/** `conductor plan`: shows what a run would do, as a table, JSON, or a CI matrix. */
export function planCommand(): Command {
  return new Command("plan")
    .description("show the workspaces a run would create, without creating anything")
    .argument("[tasks...]", "task ids or globs (plus what they depend on); default: all")
    .option("--json", "print the whole plan as stable JSON")
    .option("--shard <i/n>", "only the i-th of n CI shards")
    .option(
      "--estimate",
      "expected tokens, cost and time, from earlier runs of the same tasks and prompts in .conductor/runs",
    )
    .option(
      "--matrix <n>",
      'print a GitHub Actions matrix of n shards: {"include":[{"shard":"1/n"},…]}',
    )
    .action(async (tasks: string[], options: PlanOptions, command: Command) => {
      if (options.matrix !== undefined) {
        // The matrix lists every shard and no estimate: an option it would drop is a mistake.
        const ignored = [
          ...(options.shard === undefined ? [] : [`--shard ${options.shard}`]),
          ...(options.estimate ? ["--estimate"] : []),
        ];
        if (ignored.length > 0) {
          // What the other options ask for, as a command of its own (the tasks named included).
          const rest =
            options.shard === undefined
              ? `the estimate with \`${conductorCommand(["plan", ...tasks, "--estimate"])}\``
              : `a shard's plan with \`${conductorCommand(["plan", ...tasks, "--shard", options.shard, ...(options.estimate ? ["--estimate"] : [])])}\``;
          throw new UsageError(
            `--matrix prints the shards of a run for a CI matrix; it does not take ${ignored.join(" or ")}`,
            {
              hint: `Print the matrix with \`${conductorCommand(["plan", "--matrix", options.matrix])}\` alone; ${rest}.`,
            },
          );
        }
        const count = Number(options.matrix);
        if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) {
          throw new UsageError(
            `--matrix ${options.matrix} is not a shard count: give a whole number from 1 to ${MAX_SHARDS}`,
          );
        }
        // Validate the config too, so a broken file fails the planning job, not every shard.
        planProject(await loadProject(process.cwd(), globalOptions(command)));
        process.stdout.write(`${JSON.stringify(githubMatrix(count))}\n`);
        return;
      }
      const shard = options.shard === undefined ? undefined : parseShard(options.shard);
      const project = await loadProject(process.cwd(), globalOptions(command));
      const plan = await asRecorded(planProject(project, { taskPatterns: tasks, shard }));
      const estimate = options.estimate
        ? estimatePlan(
            plan,
            await spentHistory(plan.repo.root),
            plan.concurrency ?? Math.max(1, os.availableParallelism()),
          )
        : undefined;
      if (options.json) {
        const json = estimate === undefined ? plan : { ...plan, estimate };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        renderPlan(plan) +
          renderSources(project.loaded.sources) +
          (estimate === undefined
            ? ""
            : renderEstimate(
                plan,
                estimate,
                plan.concurrency ?? Math.max(1, os.availableParallelism()),
              )),
      );
    });
}

/**
 * The plan as a run records it in `run.started`: prompts with the secrets a run knows taken out
 * (secret-named variables, values of the env files it would copy), so that `plan` prints no secret
 * that every log, event and report of the run hides. The secrets are gathered once for the whole
 * plan (one glob per copy entry, one read per env file), never per task.
 */
async function asRecorded(plan: Plan): Promise<Plan> {
  const secrets = await runSecrets(plan);
  return redactPrompts(plan, (text) => secrets.redact(text));
}

/** The human-readable plan: a header line, one row per workspace, and the hash. */
export function renderPlan(plan: Plan): string {
  const selected = plan.workspaces.length;
  const scope =
    selected === plan.selection.totalWorkspaces ? "" : ` (of ${plan.selection.totalWorkspaces})`;
  const shard = plan.selection.shard
    ? `, shard ${plan.selection.shard.index}/${plan.selection.shard.count}`
    : "";
  const header =
    `${selected} workspace${selected === 1 ? "" : "s"}${scope}${shard} from ${plan.base.ref} ` +
    `(${plan.base.commit.slice(0, 10)}), in ${plan.workspacesDir}\n`;
  // A column for where workspaces start only when some start elsewhere than the base.
  const starts = plan.workspaces.some(
    (workspace) => !["base", "workspace", "winner"].includes(workspace.startPoint.kind),
  );
  const rows = [
    ["WORKSPACE", "BRANCH", ...(starts ? ["STARTS FROM"] : []), "AGENT", "DEPENDS ON", "SCRIPTS"],
    ...plan.workspaces.map((workspace) => [
      workspace.name,
      workspace.branch,
      ...(starts ? [startLabel(workspace)] : []),
      agentLabel(workspace),
      dependsOnLabel(workspace),
      scriptsLabel(workspace),
    ]),
  ];
  return `${header}\n${renderTable(rows)}\n${selectionLines(plan)}\nplan ${plan.hash}\n`;
}

/** The workspaces a workspace waits for, and the winners it starts from: `after fix (winner)`. */
function dependsOnLabel(workspace: Workspace): string {
  const winners = (workspace.winnerOf ?? []).map((task) => `after ${task} (winner)`);
  return [...winners, ...workspace.dependsOn].join(", ") || "-";
}

/** One line per task that picks a winner: how, among which, and the branch the winner takes. */
function selectionLines(plan: Plan): string {
  const lines = (plan.selections ?? []).map((selection) => {
    const names = selection.candidates.map((candidate) => candidate.name).join(", ");
    const branch =
      selection.branch === undefined
        ? "the winner keeps its branch"
        : `the winner takes ${selection.branch}`;
    const losers = selection.archiveLosers ? "; losers archived" : "";
    return `${selection.taskId}: select ${selection.mode} of ${names}; ${branch}${losers}\n`;
  });
  return lines.length === 0 ? "" : `\n${lines.join("")}`;
}

function startLabel(workspace: Workspace): string {
  const start = workspace.startPoint;
  const short = (commit: string) => commit.slice(0, 10);
  switch (start.kind) {
    case "base":
      return `base (${short(start.commit)})`;
    case "ref":
      return `${start.ref} (${short(start.commit)})`;
    case "pull-request":
      return `PR #${start.number} (${short(start.commit)})`;
    case "branch":
      return `continues ${start.branch} (${short(start.commit)})`;
    case "workspace":
      return start.workspace;
    case "winner":
      return `winner of ${start.task}`;
  }
}

function agentLabel(workspace: Workspace): string {
  const { kind, model } = workspace.agent;
  return model === undefined ? kind : `${kind}/${model}`;
}

function scriptsLabel(workspace: Workspace): string {
  const names = (["setup", "check", "run", "archive"] as const).filter(
    (name) => workspace.scripts[name] !== undefined,
  );
  return names.join(",") || "-";
}

/** Where the scripts and copied files came from, when the repository has settings files. */
export function renderSources(sources: readonly SettingSource[]): string {
  if (sources.length === 0) return "";
  return `\nsettings:\n${describeSources(sources)
    .map((line) => `  ${line}\n`)
    .join("")}`;
}
