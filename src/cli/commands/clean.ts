import os from "node:os";
import { Command } from "commander";
import { findRepositoryRoot } from "../../git/facts.js";
import { cleanRepository } from "../../review/clean.js";

/** `conductor clean`: removes what archived or vanished workspaces left behind. */
export function cleanCommand(): Command {
  return new Command("clean")
    .description(
      "remove state and worktrees of archived or vanished workspaces (git worktree prune); branches stay",
    )
    .option("--force", "also remove worktrees of archived workspaces that hold uncommitted changes")
    .addHelpText(
      "after",
      "\nRun folders go once every workspace of the run is archived. Runs in progress are left alone.",
    )
    .action(async (options: { force?: boolean }) => {
      const root = await findRepositoryRoot(process.cwd());
      const done = await cleanRepository(root, {
        force: options.force === true,
        homeDir: os.homedir(),
      });
      process.stdout.write(done.length === 0 ? "nothing to clean\n" : `${done.join("\n")}\n`);
    });
}
