import { PreflightError } from "../errors.js";
import type { Plan } from "../planner/types.js";
import { shellCommand } from "../review/shell-quote.js";
import type { GlobalOptions } from "./global-options.js";

/**
 * Runs preflight for a plan and throws a {@link PreflightError} (exit 2, one line per problem
 * with its remedy) when the run could not work. Loaded only when a run is about to start.
 */
export async function assertPreflight(plan: Plan, options: GlobalOptions): Promise<void> {
  const { preflightChecks, problemsOf } = await import("../preflight/preflight.js");
  const problems = problemsOf(await preflightChecks(plan));
  if (problems.length === 0) return;
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  const lines = problems.map((problem) =>
    problem.fix === "" ? problem.detail : `${problem.detail}: ${problem.fix}`,
  );
  const conductor = conductorCommand(options);
  throw new PreflightError(
    `preflight found ${count}; nothing was created:\n${lines.map((line) => `  ${line}`).join("\n")}`,
    {
      hint: `\`${conductor} doctor\` checks everything conductor needs; \`${conductor} run --no-preflight\` skips these checks.`,
    },
  );
}

/** `conductor` with the -C and -c options the user gave, so a printed hint works as printed. */
export function conductorCommand(options: GlobalOptions): string {
  const words = ["conductor"];
  if (options.cwd !== undefined) words.push("-C", options.cwd);
  if (options.config !== undefined) words.push("-c", options.config);
  return shellCommand(words);
}
