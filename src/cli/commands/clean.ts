import os from "node:os";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { chooseRunId, runIdsOf } from "../../executor/run-select.js";
import { listRunIds } from "../../executor/run-store.js";
import { findRepositoryRoot } from "../../git/facts.js";
import { cleanRepository } from "../../review/clean.js";
import { globalOptions } from "../global-options.js";
import { configOfRuns } from "../project.js";
import { RUN_OPTION_HELP } from "../run-choice.js";

interface CleanOptions {
  force?: boolean;
  run?: string;
  all?: boolean;
}

/** `conductor clean`: removes what archived or vanished workspaces left behind. */
export function cleanCommand(): Command {
  return new Command("clean")
    .description(
      "remove state and worktrees of a run's archived or vanished workspaces, and git's records of them; branches stay",
    )
    .option("--run <id>", RUN_OPTION_HELP)
    .option("--all", "every run of the config in use, not only the latest")
    .option("--force", "also remove worktrees of archived workspaces that hold uncommitted changes")
    .addHelpText(
      "after",
      "\nA run's folder goes once every workspace of it is archived. Runs in progress are left alone,\n" +
        "and so are runs of other config files.",
    )
    .action(async (options: CleanOptions, command: Command) => {
      if (options.all === true && options.run !== undefined) {
        throw new UsageError("name a run with --run or pass --all, not both");
      }
      const root = await findRepositoryRoot(process.cwd());
      const config = await configOfRuns(process.cwd(), root, globalOptions(command));
      const runIds =
        options.all === true
          ? await runIdsOf(root, config.key)
          : listRunIds(root).length === 0
            ? []
            : [
                await chooseRunId(root, {
                  run: options.run,
                  configFile: config.key,
                  shownAs: config.shown,
                }),
              ];
      const done = await cleanRepository(root, {
        force: options.force === true,
        homeDir: os.homedir(),
        runIds,
      });
      process.stdout.write(done.length === 0 ? "nothing to clean\n" : `${done.join("\n")}\n`);
    });
}
