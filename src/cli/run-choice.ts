import type { Command } from "commander";
import { loadRun } from "../executor/load-run.js";
import { chooseRunId } from "../executor/run-select.js";
import type { RunState } from "../executor/types.js";
import { findRepositoryRoot } from "../git/facts.js";
import { globalOptions } from "./global-options.js";
import { configInUse } from "./project.js";

/** Help text of every `--run` option. */
export const RUN_OPTION_HELP =
  "run id or a unique prefix (default: the latest run of the config in use)";

/** The repository and the run a command reads: `--run <id>`, else the latest of the config in use. */
export async function chosenRun(
  command: Command,
  run: string | undefined,
): Promise<{ root: string; run: RunState }> {
  const root = await findRepositoryRoot(process.cwd());
  const configFile = configInUse(process.cwd(), root, globalOptions(command));
  const runId = await chooseRunId(root, { run, configFile });
  return { root, run: await loadRun(root, runId) };
}
