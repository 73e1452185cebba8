import path from "node:path";
import {
  type GitFilesLook,
  HISTORY_FILES,
  INFO_FILES,
  lookAtGitFiles,
  restoreGitFiles,
  sameGitFile,
} from "../git/git-files.js";
import type { StepContext } from "./steps/context.js";

/**
 * The repository's git config and hooks (which git runs as code), with its grafts and the
 * `info/` files that hide files or pick filters, before and after an agent's step, looked at and
 * put back by `verify-agent-result.ts`.
 */

/**
 * The repository's git config and hooks, those of `core.hooksPath` included: where they are is
 * asked of git once a run (the lookup of the post-checkout hook).
 */
export async function gitFilesOf(ctx: StepContext): Promise<GitFilesLook> {
  const hook = await ctx.checkoutHook.find();
  return lookAtGitFiles(hook.commonDir, path.dirname(hook.file));
}

/** How a changed git file is named: in `.git/`, or by its path (a hook of `core.hooksPath`). */
export function shownGitFile(entry: string): string {
  return path.isAbsolute(entry) ? entry : `.git/${entry}`;
}

/**
 * Puts the changed git files back as the run found them, where the step's `before` still had
 * them so (one changed earlier, by the user or an agent before, is only reported), and says so.
 * What stood there is kept beside the workspace's logs.
 */
export function changedGitFiles(
  ctx: StepContext,
  before: GitFilesLook,
  found: GitFilesLook,
  changed: readonly string[],
): string {
  const trusted = ctx.refLedger.trustedGitFiles(before);
  const safe = changed.filter((entry) => sameGitFile(before, trusted, entry));
  const { restored, keptIn } = restoreGitFiles(
    trusted,
    found,
    safe,
    path.dirname(ctx.paths.logFile(ctx.workspace.name, "agent")),
  );
  const list = changed.map(shownGitFile).join(", ");
  const left = changed.filter((entry) => !restored.includes(entry));
  const outcome =
    safe.length === 0
      ? "they were not as the run found them before this step either, so conductor leaves them as they are: look at them before you run git there"
      : restored.length === 0
        ? "conductor could not put them back: look at them before you run git there"
        : `put back as the run found them${left.length > 0 ? ` (all but ${left.map(shownGitFile).join(", ")}: look at ${left.length === 1 ? "it" : "them"} before you run git there)` : ""}${keptIn === undefined ? "" : `, what stood there kept in ${keptIn}`}`;
  const reasons = ["git runs them as code"];
  if (changed.some((entry) => HISTORY_FILES.includes(entry)))
    reasons.push("shows history through them");
  if (changed.some((entry) => entry === "info" || INFO_FILES.includes(entry)))
    reasons.push("picks filters or hides files through them");
  const why =
    reasons.length === 1
      ? reasons[0]
      : `${reasons.slice(0, -1).join(", ")} or ${reasons[reasons.length - 1]}`;
  return `the repository's git files ${list} changed (${why}); ${outcome}`;
}
