import { Command } from "commander";
import type { FoundWorkspace } from "../../executor/find-workspace.js";
import { forecastConflicts } from "../../merge/conflicts.js";
import { renderConflicts } from "../../merge/render-conflicts.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

interface ConflictsOptions {
  json?: boolean;
  run?: string;
}

/** `conductor conflicts`: which finished workspaces merge cleanly, and an order to land them. */
export function conflictsCommand(): Command {
  return new Command("conflicts")
    .description(
      "forecast merges of a run's finished workspaces (each pair and each into the base branch) and suggest a merge order",
    )
    .option("--run <id>", RUN_OPTION_HELP)
    .option("--json", "print the forecast as JSON")
    .addHelpText(
      "after",
      "\nUses git merge-tree: no checkout or branch is touched. The order lands, one by one, the\n" +
        "workspace that conflicts with the fewest others still waiting (ties: more changed lines).",
    )
    .action(async (options: ConflictsOptions, command: Command) => {
      const { run } = await chosenRun(command, options.run);
      const found: FoundWorkspace[] = run.plan.workspaces.flatMap((workspace) => {
        const state = run.workspaces[workspace.name];
        return state === undefined ? [] : [{ run, workspace, state }];
      });
      const forecast = await forecastConflicts(run, found, { pairs: true });
      process.stdout.write(
        options.json ? `${JSON.stringify(forecast, null, 2)}\n` : renderConflicts(forecast),
      );
    });
}
