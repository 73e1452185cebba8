import { Command } from "commander";
import { conductorCommand } from "../../hint/command.js";
import { reviewReaderOf } from "../../merge/review-rank.js";
import { describeSelection } from "../../report/selection.js";
import { currentRanking, pickByHand, renderRanking, selectionOf } from "../../review/pick.js";
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
        const before = run.selections?.[task]?.winner;
        const next = await pickByHand(run, selection, workspace, reviewOf);
        const record = next.selections?.[task];
        if (record !== undefined) process.stdout.write(`${task}: ${describeSelection(record)}\n`);
        const built = next.plan.workspaces.filter(
          (planned) =>
            planned.winnerOf?.includes(task) && next.workspaces[planned.name]?.worktreeCreated,
        );
        if (built.length > 0 && before !== undefined && before !== workspace) {
          process.stdout.write(
            `Note: ${built.map((planned) => planned.name).join(", ")} already started from ${before}, the earlier winner, and keep${built.length === 1 ? "s" : ""} that start.\n`,
          );
        }
        const waiting = next.plan.workspaces.filter(
          (planned) =>
            planned.winnerOf?.includes(task) &&
            next.workspaces[planned.name]?.status !== "succeeded",
        );
        if (waiting.length > 0) {
          process.stdout.write(
            `Start ${waiting.map((planned) => planned.name).join(", ")} from it with \`${conductorCommand(["run", "--resume", next.runId])}\`\n`,
          );
        }
      },
    );
}
