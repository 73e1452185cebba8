import { git } from "../../git/worktree.js";
import type { Plan } from "../../planner/types.js";
import { namedSecretsOfCopiedEnvFiles } from "../../secrets/env-file.js";
import { copyIntoWorkspace, placeContextFiles, type SourceMatches } from "../copy-files.js";
import type { StepContext, StepOutcome } from "./context.js";

/**
 * Copies the configured gitignored files and the context files into the worktree. Files copied
 * by an earlier try count as copied; values of copied env files become secrets to redact.
 */
export async function copyStep(ctx: StepContext): Promise<StepOutcome> {
  const root = ctx.plan.repo.root;
  const matches = matchesOfRun(ctx.plan);
  try {
    const report = await copyIntoWorkspace(root, ctx.workspace.path, ctx.plan.copy, matches);
    const earlier = new Set(ctx.state().copied);
    // A copy step cut off by a killed conductor copied files without recording them: a skipped
    // file the branch does not track is such a copy (its secrets must be redacted, and it must
    // stay out of commits).
    const untracked = ctx.cutOff
      ? await untrackedOf(ctx.workspace.path, report.skipped)
      : new Set<string>();
    const copied = [
      ...report.copied,
      ...report.skipped.filter((file) => earlier.has(file) || untracked.has(file)),
    ];
    const context = await placeContextFiles(root, ctx.workspace.path, ctx.plan.context, matches);
    ctx.addSecrets(await namedSecretsOfCopiedEnvFiles(root, copied));
    return { status: "succeeded", result: { step: "copy", copied: [...copied, ...context] } };
  } catch (error) {
    return {
      status: "failed",
      failure: { reason: "io-error", step: "copy", message: (error as Error).message },
    };
  }
}

/** Which files of the main checkout the copy globs match, found once per run (its plan). */
const matchesByPlan = new WeakMap<Plan, SourceMatches>();

function matchesOfRun(plan: Plan): SourceMatches {
  let matches = matchesByPlan.get(plan);
  if (matches === undefined) {
    matches = new Map();
    matchesByPlan.set(plan, matches);
  }
  return matches;
}

/** The files of `files` that the worktree's branch does not track. */
async function untrackedOf(worktree: string, files: readonly string[]): Promise<Set<string>> {
  if (files.length === 0) return new Set();
  const out = await git(worktree, ["ls-files", "-z", "--", ...files.map((f) => `:(literal)${f}`)]);
  const tracked = new Set(out.split("\0").filter(Boolean));
  return new Set(files.filter((file) => !tracked.has(file)));
}
