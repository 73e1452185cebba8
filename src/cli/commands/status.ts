import { Command } from "commander";
import { isConductorAlive, loadRun } from "../../executor/load-run.js";
import { resolveRunId } from "../../executor/run-store.js";
import { findRepositoryRoot } from "../../git/facts.js";
import { renderRunSummary } from "../../report/summary.js";
import { renderStatus } from "../../review/status.js";

/** `conductor status [run-id]`: where every workspace of a run stands. */
export function statusCommand(): Command {
  return new Command("status")
    .description("show every workspace of the latest (or given) run: status, step, diff, check")
    .argument("[run-id]", "run id or a unique prefix of one (default: the latest run)")
    .option(
      "--json",
      "print the run's JSON summary (the shape of `conductor report --format json`)",
    )
    .addHelpText(
      "after",
      "\nReads runs in progress and runs whose conductor was killed (shown as interrupted).",
    )
    .action(async (runId: string | undefined, options: { json?: boolean }) => {
      const root = await findRepositoryRoot(process.cwd());
      const state = await loadRun(root, resolveRunId(root, runId));
      process.stdout.write(
        options.json
          ? renderRunSummary(state)
          : renderStatus(state, { live: isConductorAlive(state.pid), now: new Date() }),
      );
    });
}
