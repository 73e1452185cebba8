import { Command } from "commander";
import { findWorkspace } from "../../executor/find-workspace.js";
import { requireWorktree } from "../../review/worktree-presence.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

/** `conductor open <workspace>`: prints the worktree path, for `cd "$(conductor open x)"`. */
export function openCommand(): Command {
  return new Command("open")
    .description("print a workspace's worktree path (only the path)")
    .argument("<workspace>", "workspace name")
    .option("--run <id>", RUN_OPTION_HELP)
    .addHelpText("after", '\nExample: cd "$(conductor open add-auth)"')
    .action(async (name: string, options: { run?: string }, command: Command) => {
      const { run } = await chosenRun(command, options.run);
      const found = findWorkspace(run, name);
      process.stdout.write(`${await requireWorktree(found)}\n`);
    });
}
