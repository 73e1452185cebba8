import { Command } from "commander";
import { findWorkspace } from "../../executor/find-workspace.js";
import { findRepositoryRoot } from "../../git/facts.js";
import { requireWorktree } from "../../review/worktree-presence.js";

/** `conductor open <workspace>`: prints the worktree path, for `cd "$(conductor open x)"`. */
export function openCommand(): Command {
  return new Command("open")
    .description("print a workspace's worktree path (only the path)")
    .argument("<workspace>", "workspace name")
    .option("--run <id>", "the run holding the workspace (default: the newest run that has it)")
    .addHelpText("after", '\nExample: cd "$(conductor open add-auth)"')
    .action(async (name: string, options: { run?: string }) => {
      const root = await findRepositoryRoot(process.cwd());
      const found = await findWorkspace(root, name, options.run);
      process.stdout.write(`${await requireWorktree(found)}\n`);
    });
}
