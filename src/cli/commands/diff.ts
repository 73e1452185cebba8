import { Command } from "commander";
import { ExitCode } from "../../errors.js";
import { findWorkspace } from "../../executor/find-workspace.js";
import { gitOnTerminal, workspaceDiffArgs } from "../../review/diff.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

/** `conductor diff <workspace>`: what the workspace's branch changed, through git. */
export function diffCommand(): Command {
  return new Command("diff")
    .description("show what a workspace's branch changed since its start point (git diff)")
    .argument("<workspace>", "workspace name")
    .option("--stat", "only the files changed and lines added/removed")
    .option("--run <id>", RUN_OPTION_HELP)
    .addHelpText("after", "\nUses git's pager and colours; plain text when piped.")
    .action(async (name: string, options: { stat?: boolean; run?: string }, command: Command) => {
      const { root, run } = await chosenRun(command, options.run);
      const found = findWorkspace(run, name);
      const args = await workspaceDiffArgs(found, { stat: options.stat === true });
      const code = await gitOnTerminal(root, args);
      if (code !== 0) process.exitCode = ExitCode.WorkFailed;
    });
}
