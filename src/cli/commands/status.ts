import { existsSync } from "node:fs";
import { Command } from "commander";
import { isConductorAlive, isRunLive } from "../../executor/load-run.js";
import type { RunState } from "../../executor/types.js";
import { renderRunSummary } from "../../report/summary.js";
import { renderStatus } from "../../review/status.js";
import { chosenRun, namedRun, RUN_OPTION_HELP } from "../run-choice.js";

interface StatusOptions {
  json?: boolean;
  run?: string;
}

/** `conductor status [run-id]`: where every workspace of a run stands. */
export function statusCommand(): Command {
  return new Command("status")
    .description(
      "show every workspace of a run (default: the latest of the config in use): status, step, diff, check",
    )
    .argument("[run-id]", "same as --run")
    .option("--run <id>", RUN_OPTION_HELP)
    .option(
      "--json",
      "print the run's JSON summary (the shape of `conductor report --format json`)",
    )
    .addHelpText(
      "after",
      "\nReads runs in progress and runs whose conductor was killed (shown as interrupted).\n" +
        "DURATION and SETUP/AGENT/CHECK/COMMIT are time spent working, every session (the run,\n" +
        "resumes, follow-ups) added up; --json has them per step (steps.<step>.totalMs).",
    )
    .action(async (runId: string | undefined, options: StatusOptions, command: Command) => {
      const named = namedRun(runId, options.run);
      const { run: state } = await chosenRun(command, named, { readOnly: true });
      const live = isRunLive(state);
      const now = new Date();
      process.stdout.write(
        options.json
          ? // A live run's figures count up to now; a finished one's are fixed.
            renderRunSummary(state, live ? now : undefined)
          : renderStatus(state, {
              live: isConductorAlive(state.pid),
              now,
              namedRun: named !== undefined,
              goneWorktrees: goneWorktrees(state),
            }),
      );
    });
}

/** Workspaces whose worktree was made, is not archived, and is no longer on the disk. */
function goneWorktrees(state: RunState): Set<string> {
  const gone = new Set<string>();
  for (const { name, path } of state.plan.workspaces) {
    const workspace = state.workspaces[name];
    if (workspace === undefined || workspace.archived !== undefined) continue;
    if (workspace.worktreeCreated && !existsSync(path)) gone.add(name);
  }
  return gone;
}
