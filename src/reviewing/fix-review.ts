import { UsageError } from "../errors.js";
import type { RunState } from "../executor/types.js";
import { conductorCommand } from "../hint/command.js";
import type { ReviewPriority } from "./findings.js";
import { findingsToFix, fixReviewPrompt } from "./record.js";
import { readReviewRecord } from "./result.js";

/** Reads `--priority 0,1` (also `P0,P1`). */
export function parsePriorities(text: string): ReviewPriority[] {
  const priorities = text
    .split(",")
    .map((part) => part.trim().replace(/^p/i, ""))
    .filter((part) => part !== "");
  const bad = priorities.filter((part) => !/^[0-3]$/.test(part));
  if (priorities.length === 0 || bad.length > 0) {
    throw new UsageError(
      `--priority ${text} is not a list of priorities: use numbers 0 to 3 separated by commas, e.g. --priority 0,1`,
    );
  }
  return [...new Set(priorities.map(Number) as ReviewPriority[])].sort();
}

/**
 * The follow-up prompt of `continue --fix-review`: the latest review's findings (of the given
 * priorities) handed back to the implementing session, with the person's own words after them.
 * Undefined when the review has no such findings.
 */
export async function fixReviewInstructions(
  run: RunState,
  workspace: string,
  priorities: readonly ReviewPriority[] | undefined,
  extra: string,
): Promise<string | undefined> {
  const record = await readReviewRecord(run.plan.repo.root, run.runId, workspace);
  if (record === undefined || record.status !== "completed") {
    throw new UsageError(
      `workspace ${workspace} has no completed review to fix${record === undefined ? "" : ` (the last review ${record.status})`}`,
      {
        hint: `Review it first with \`${conductorCommand(["review", workspace, "--run", run.runId])}\`.`,
      },
    );
  }
  const findings = findingsToFix(record, priorities);
  if (findings.length === 0) return undefined;
  const prompt = fixReviewPrompt(record, findings);
  return extra.trim() === "" ? prompt : `${prompt}\n\n${extra.trim()}`;
}
