import type { RunState } from "../executor/types.js";
import { conductorCommand } from "../hint/command.js";
import { gatherChecks } from "../merge/checks.js";
import { renderChecks } from "../merge/render-checks.js";
import { writeRunReports } from "../report/files.js";
import { reviewMarkdownFile } from "../reviewing/review-workspace.js";
import { reviewSession } from "../reviewing/session.js";
import { reviewSummaryLines } from "../reviewing/summary.js";

/**
 * The demo's second half: every workspace that succeeded is reviewed by a read-only codex
 * session (`conductor review --all`), then `conductor checks` shows whether each is ready to
 * merge. Returns the run state with the reviews recorded.
 */
export async function reviewAndCheck(
  state: RunState,
  write: (text: string) => void,
  interrupt: AbortSignal,
): Promise<RunState> {
  const names = state.plan.workspaces
    .filter((workspace) => state.workspaces[workspace.name]?.status === "succeeded")
    .map((workspace) => workspace.name);
  if (names.length === 0) return state;
  write(`\n$ ${conductorCommand(["review", "--all"])}\n`);
  const reviewed = await reviewSession({
    previous: state,
    workspaces: names,
    reporters: [],
    interrupt,
  });
  writeRunReports(reviewed.paths, reviewed.state);
  // The summary's "Next" commands would repeat the demo's own list; the verdicts are enough here.
  const summary = reviewSummaryLines(
    reviewed.reviews,
    (name) => reviewMarkdownFile(reviewed.paths, name),
    [],
  );
  write(summary.split("\nNext:")[0]?.replace(/^\n/, "") ?? "");
  const found = names.flatMap((name) => {
    const workspace = reviewed.state.plan.workspaces.find((candidate) => candidate.name === name);
    const workspaceState = reviewed.state.workspaces[name];
    return workspace && workspaceState
      ? [{ run: reviewed.state, workspace, state: workspaceState }]
      : [];
  });
  write(`\n$ ${conductorCommand(["checks"])}\n`);
  write(renderChecks(await gatherChecks(reviewed.state, found), reviewed.state.runId));
  return reviewed.state;
}
