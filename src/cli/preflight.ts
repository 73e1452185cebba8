import { PreflightError } from "../errors.js";
import { conductorCommand } from "../hint/command.js";
import type { Plan, Workspace } from "../planner/types.js";
import type { CheckResult } from "../preflight/check.js";

/** Starts loading preflight's modules, so that they are ready when the plan is. */
export function preloadPreflight(): void {
  import("../preflight/preflight.js").catch(() => undefined);
}

/**
 * Runs preflight for a plan and throws a {@link PreflightError} (exit 2, one line per problem
 * with its remedy) when the run could not work. Loaded only when a run is about to start.
 * `again` is the run's own command line (tasks and options, no global ones), which the hint
 * that skips preflight repeats: without them it would run every task of the file.
 */
export async function assertPreflight(plan: Plan, again: readonly string[]): Promise<void> {
  const { preflightChecks, problemsOf } = await import("../preflight/preflight.js");
  throwProblems(problemsOf(await preflightChecks(plan)), "created", [...again, "--no-preflight"]);
}

/** Preflight of the agent of one workspace, before a follow-up turn (`conductor continue`). */
export async function assertAgentPreflight(workspace: Workspace): Promise<void> {
  const { agentTargets, problemsOf } = await import("../preflight/preflight.js");
  const { agentChecks } = await import("../preflight/agents.js");
  const checks = await Promise.all(agentTargets([workspace], process.env).map(agentChecks));
  throwProblems(problemsOf(checks.flat()), "changed", undefined);
}

function throwProblems(
  problems: readonly CheckResult[],
  untouched: "created" | "changed",
  skip: string[] | undefined,
): void {
  if (problems.length === 0) return;
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  const lines = problems.map((problem) =>
    problem.fix === "" ? problem.detail : `${problem.detail}: ${problem.fix}`,
  );
  const skipping = skip ? `; \`${conductorCommand(skip)}\` skips these checks` : "";
  throw new PreflightError(
    `preflight found ${count}; nothing was ${untouched}:\n${lines.map((line) => `  ${line}`).join("\n")}`,
    { hint: `\`${conductorCommand(["doctor"])}\` checks everything conductor needs${skipping}.` },
  );
}
