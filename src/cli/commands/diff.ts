import { Command } from "commander";
import { ExitCode } from "../../errors.js";
import { findWorkspace } from "../../executor/find-workspace.js";
import { findRepositoryRoot } from "../../git/facts.js";
import { gitOnTerminal, workspaceDiffArgs } from "../../review/diff.js";

/** `conductor diff <workspace>`: what the workspace's branch changed, through git. */
export function diffCommand(): Command {
  return new Command("diff")
    .description("show what a workspace's branch changed since its start point (git diff)")
    .argument("<workspace>", "workspace name")
    .option("--stat", "only the files changed and lines added/removed")
    .option("--run <id>", "the run holding the workspace (default: the newest run that has it)")
    .addHelpText("after", "\nUses git's pager and colours; plain text when piped.")
    .action(async (name: string, options: { stat?: boolean; run?: string }) => {
      const root = await findRepositoryRoot(process.cwd());
      const found = await findWorkspace(root, name, options.run);
      const args = await workspaceDiffArgs(found, { stat: options.stat === true });
      const code = await gitOnTerminal(root, args);
      if (code !== 0) process.exitCode = ExitCode.WorkFailed;
    });
}
