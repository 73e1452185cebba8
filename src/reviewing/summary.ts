import type { ReviewState } from "../executor/types.js";
import { conductorCommand } from "../hint/command.js";
import { formatFindingCounts, verdictWords } from "../report/format.js";

/**
 * What `conductor review` prints after its reviews: one line per workspace with the verdict and
 * findings by priority, where to read each review, and what to do next.
 */
export function reviewSummaryLines(
  reviews: ReadonlyMap<string, ReviewState>,
  files: (workspace: string) => string,
  run: readonly string[],
): string {
  const lines: string[] = [""];
  for (const [name, review] of reviews) {
    lines.push(`${name}: ${reviewLine(review)}`);
    if (review.status === "completed" || review.status === "failed") {
      lines.push(`  ${files(name)}`);
    }
  }
  const withFindings = [...reviews].filter(
    ([, review]) =>
      review.status === "completed" && (review.counts ?? []).some((count) => count > 0),
  );
  if (withFindings.length > 0) {
    lines.push("", "Next:");
    for (const [name, review] of withFindings) {
      // The P0/P1 ones first, when there are any: they are what blocks a merge.
      const blocking = (review.counts?.[0] ?? 0) + (review.counts?.[1] ?? 0) > 0;
      const only = blocking ? ["--priority", "0,1"] : [];
      lines.push(`  ${conductorCommand(["continue", name, "--fix-review", ...only, ...run])}`);
    }
    lines.push(`  ${conductorCommand(["checks", ...run])}`);
  }
  return `${lines.join("\n")}\n`;
}

function reviewLine(review: ReviewState): string {
  switch (review.status) {
    case "running":
      return "still running";
    case "skipped":
      return "nothing to review (no changes)";
    case "failed":
      return `review failed: ${review.failure?.message ?? "no answer"}`;
    case "completed": {
      return `${verdictWords(review.verdict)}; ${formatFindingCounts(review.counts)}`;
    }
  }
}
