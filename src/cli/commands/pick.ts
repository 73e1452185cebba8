import { Command } from "commander";
import { conductorCommand } from "../../hint/command.js";
import { reviewReaderOf } from "../../merge/review-rank.js";
import { describeSelection } from "../../report/selection.js";
import {
  currentRanking,
  dependentStarts,
  pickByHand,
  renderRanking,
  selectionOf,
} from "../../review/pick.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

/** `conductor pick <task> [<workspace>]`: a best-of-N task's ranking, or its winner set by hand. */
export function pickCommand(): Command {
  return new Command("pick")
    .description(
      "show how a task's workspaces were ranked, or set its winner by hand (the winner's branch takes the task's branch name)",
    )
    .argument("<task>", "a task with several workspaces (attempts or matrix)")
    .argument("[workspace]", "the candidate to make the winner")
    .option("--run <id>", RUN_OPTION_HELP)
    .action(
      async (
        task: string,
        workspace: string | undefined,
        options: { run?: string },
        command: Command,
      ) => {
        const { run } = await chosenRun(command, options.run, {
          readOnly: workspace === undefined,
        });
        const selection = selectionOf(run, task);
        const reviewOf = reviewReaderOf(run.plan.repo.root, run.runId);
        if (workspace === undefined) {
          process.stdout.write(
            renderRanking(run, selection, await currentRanking(run, selection, reviewOf)),
          );
          return;
        }
        const next = await pickByHand(run, selection, workspace, reviewOf);
        const record = next.selections?.[task];
        if (record !== undefined) process.stdout.write(`${task}: ${describeSelection(record)}\n`);
        const dependents = await dependentStarts(next, task);
        // A dependent with a worktree keeps the start it was made from (a resume continues it
        // there); only one not started yet starts from the new winner.
        const elsewhere = dependents.filter((entry) => entry.started && entry.from !== workspace);
        for (const entry of elsewhere) {
          process.stdout.write(
            `Note: ${entry.name} already started from ${entry.from ?? "an earlier winner"}${entry.from === undefined ? "" : ", an earlier winner,"} and keeps that start.\n`,
          );
        }
        const resume = `\`${conductorCommand(["run", "--resume", next.runId])}\``;
        const waiting = dependents.filter((entry) => !entry.started && !entry.succeeded);
        if (waiting.length > 0)
          process.stdout.write(`Start ${names(waiting)} from it with ${resume}\n`);
        const unfinished = dependents.filter((entry) => entry.started && !entry.succeeded);
        if (unfinished.length > 0)
          process.stdout.write(
            `Continue ${names(unfinished)} from ${unfinished.length === 1 ? "its" : "their"} start with ${resume}\n`,
          );
      },
    );
}

function names(entries: readonly { name: string }[]): string {
  return entries.map((entry) => entry.name).join(", ");
}
