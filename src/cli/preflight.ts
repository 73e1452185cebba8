import { PreflightError } from "../errors.js";
import { conductorCommand } from "../hint/command.js";
import type { Plan } from "../planner/types.js";

/**
 * Runs preflight for a plan and throws a {@link PreflightError} (exit 2, one line per problem
 * with its remedy) when the run could not work. Loaded only when a run is about to start.
 */
export async function assertPreflight(plan: Plan): Promise<void> {
  const { preflightChecks, problemsOf } = await import("../preflight/preflight.js");
  const problems = problemsOf(await preflightChecks(plan));
  if (problems.length === 0) return;
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  const lines = problems.map((problem) =>
    problem.fix === "" ? problem.detail : `${problem.detail}: ${problem.fix}`,
  );
  throw new PreflightError(
    `preflight found ${count}; nothing was created:\n${lines.map((line) => `  ${line}`).join("\n")}`,
    {
      hint: `\`${conductorCommand(["doctor"])}\` checks everything conductor needs; \`${conductorCommand(["run", "--no-preflight"])}\` skips these checks.`,
    },
  );
}
