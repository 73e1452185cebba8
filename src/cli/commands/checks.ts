import { Command } from "commander";
import { ExitCode } from "../../errors.js";
import { type FoundWorkspace, findWorkspaces } from "../../executor/find-workspace.js";
import { gatherChecks } from "../../merge/checks.js";
import { renderChecks } from "../../merge/render-checks.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

interface ChecksOptions {
  json?: boolean;
  run?: string;
}

/** `conductor checks [workspace…]`: one merge-readiness view per workspace. */
export function checksCommand(): Command {
  return new Command("checks")
    .description(
      "show whether workspaces are ready to merge: each item pass, warn or block with a reason",
    )
    .argument("[workspaces...]", "workspace names or globs (default: every one not archived)")
    .option("--run <id>", RUN_OPTION_HELP)
    .option("--json", "print the checks as JSON")
    .addHelpText(
      "after",
      "\nExit 0 when nothing blocks, 1 when an item of any workspace blocks. Touches no checkout.",
    )
    .action(async (patterns: string[], options: ChecksOptions, command: Command) => {
      const { run } = await chosenRun(command, options.run);
      const found: FoundWorkspace[] =
        patterns.length > 0
          ? findWorkspaces(run, patterns)
          : run.plan.workspaces.flatMap((workspace) => {
              const state = run.workspaces[workspace.name];
              return state === undefined || state.archived !== undefined
                ? []
                : [{ run, workspace, state }];
            });
      const checks = await gatherChecks(run, found);
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ runId: run.runId, workspaces: checks }, null, 2)}\n`
          : renderChecks(checks, run.runId),
      );
      if (checks.some((entry) => entry.blocked)) process.exitCode = ExitCode.WorkFailed;
    });
}
