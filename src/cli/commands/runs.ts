import { Command } from "commander";
import { isConductorAlive, loadRun } from "../../executor/load-run.js";
import { listRunIds } from "../../executor/run-store.js";
import type { RunState } from "../../executor/types.js";
import { findRepositoryRoot } from "../../git/facts.js";
import { renderRuns, runListing } from "../../review/runs.js";
import { globalOptions } from "../global-options.js";
import { configOfRuns } from "../project.js";

/** `conductor runs`: every run of the repository, of every config file. */
export function runsCommand(): Command {
  return new Command("runs")
    .description("list the runs of this repository: id, config file, start, status, workspaces")
    .option("--json", "print the list as JSON")
    .addHelpText(
      "after",
      "\nCommands that read a run (status, logs, diff, open, serve, pr, archive, clean, report,\n" +
        "continue, run --resume) take --run <id> and default to the latest run of the config file\n" +
        "in use (-c FILE, else conductor.yaml).",
    )
    .action(async (options: { json?: boolean }, command: Command) => {
      const root = await findRepositoryRoot(process.cwd());
      // Every file's runs are listed, but a -c FILE that is not there is a mistake to point out.
      await configOfRuns(process.cwd(), root, globalOptions(command));
      const runs: RunState[] = [];
      for (const id of listRunIds(root)) {
        // One damaged run folder must not hide every other run: it is named and skipped.
        const run = await loadRun(root, id).catch((error: Error) => {
          process.stderr.write(`conductor: skipped run ${id}: ${error.message}\n`);
          return undefined;
        });
        if (run !== undefined) runs.push(run);
      }
      const latest = new Map<string, string>();
      for (const run of runs) latest.set(run.plan.configFile ?? "conductor.yaml", run.runId);
      const listings = runs.map((run) =>
        runListing(
          run,
          isConductorAlive(run.pid),
          latest.get(run.plan.configFile ?? "conductor.yaml") === run.runId,
        ),
      );
      process.stdout.write(
        options.json ? `${JSON.stringify(listings, null, 2)}\n` : renderRuns(listings),
      );
    });
}
