import { buildPlan, PlanError } from "../../src/planner/plan.js";
import type { Plan, PlanInput, RepoFacts } from "../../src/planner/types.js";
import type { Config } from "../../src/schema/config.js";
import { parseConfig } from "../../src/schema/load.js";
import type { PathIssue } from "../../src/schema/zod-issues.js";

/** Repository facts of an imaginary checkout; the planner never looks at the disk. */
export const FACTS: RepoFacts = {
  root: "/src/webapp",
  name: "webapp",
  defaultBranch: "main",
  baseRef: "main",
  baseCommit: "0123456789abcdef0123456789abcdef01234567",
  homeDir: "/home/dev",
};

/** Parses and validates configuration text exactly as `conductor validate` does. */
export function configFrom(yaml: string): Config {
  return parseConfig(new TextEncoder().encode(yaml), "conductor.yaml").config;
}

/** Plans configuration text with {@link FACTS}; `input` overrides any part of the planner input. */
export function planOf(yaml: string, input: Partial<PlanInput> = {}): Plan {
  return buildPlan({ config: configFrom(yaml), facts: FACTS, promptFiles: {}, ...input });
}

/** The problems a plan is refused with (fails the test when planning succeeds). */
export function planProblems(yaml: string, input: Partial<PlanInput> = {}): PathIssue[] {
  try {
    planOf(yaml, input);
  } catch (error) {
    if (error instanceof PlanError) return [...error.problems];
    throw error;
  }
  throw new Error("expected the plan to be refused");
}

/** A workspace of the plan by name (fails the test when there is none). */
export function workspace(plan: Plan, name: string): Plan["workspaces"][number] {
  const found = plan.workspaces.find((candidate) => candidate.name === name);
  if (!found) {
    const names = plan.workspaces.map((candidate) => candidate.name).join(", ");
    throw new Error(`no workspace ${name} in the plan (has ${names})`);
  }
  return found;
}
