import path from "node:path";
import type { Command } from "commander";
import { RepositoryError, UsageError } from "../errors.js";
import { loadRun } from "../executor/load-run.js";
import { chooseRunId } from "../executor/run-select.js";
import type { RunState } from "../executor/types.js";
import { findRepositoryRoot } from "../git/facts.js";
import { conductorCommand } from "../hint/command.js";
import { shellCommand } from "../hint/shell-quote.js";
import { globalOptions } from "./global-options.js";
import { configOfRuns } from "./project.js";

/** Help text of every `--run` option. */
export const RUN_OPTION_HELP =
  "run id or a unique prefix (default: the latest run of the config in use)";

/**
 * The run a command line names with its `[run-id]` argument or `--run`: both, naming different
 * runs, is a mistake to point out rather than one of them to pick silently.
 */
export function namedRun(
  argument: string | undefined,
  option: string | undefined,
): string | undefined {
  if (argument !== undefined && option !== undefined && argument !== option) {
    throw new UsageError(`two runs named: ${argument} and --run ${option}; name one`, {
      hint: `Give the run id once, as the argument or with --run (\`${conductorCommand(["runs"])}\` lists them).`,
    });
  }
  return option ?? argument;
}

/** The repository and the run a command reads: `--run <id>`, else the latest of the config in use. */
export async function chosenRun(
  command: Command,
  run: string | undefined,
  options: { readOnly?: boolean } = {},
): Promise<{ root: string; run: RunState }> {
  const root = await findRepositoryRoot(process.cwd());
  const config = await configOfRuns(process.cwd(), root, globalOptions(command));
  const runId = await chooseRunId(root, {
    run,
    configFile: config.key,
    shownAs: config.shown,
    // On stderr: `--json` output stays one document.
    onPassedOver: (damaged, chosen) => {
      process.stderr.write(
        `conductor: warning: run ${damaged}, newer than run ${chosen}, is damaged and may be the latest of ${config.shown}; \`${conductorCommand(["status", "--run", damaged])}\` says what is wrong with its record\n`,
      );
    },
  });
  const state = await loadRun(root, runId);
  if (!options.readOnly) assertRepositoryInPlace(state, root);
  return { root, run: state };
}

/**
 * A run's worktrees point at the repository where the run was made (their `.git` files name its
 * path): in a moved or copied repository, git fails in every one of them, and a follow-up would
 * turn a succeeded workspace into a failed one. Commands that touch worktrees refuse at once.
 */
function assertRepositoryInPlace(run: RunState, root: string): void {
  const recorded = path.resolve(run.plan.repo.root);
  if (recorded === path.resolve(root)) return;
  throw new RepositoryError(
    `run ${run.runId} was made in ${recorded}, but this repository is ${root}: it was moved or copied, and the run's worktrees still point to ${recorded}`,
    {
      hint: `Move the repository back (${shellCommand(["mv", root, recorded])}), or start a new run here.`,
    },
  );
}
