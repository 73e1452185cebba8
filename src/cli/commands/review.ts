import { Command } from "commander";
import { ExitCode, UsageError } from "../../errors.js";
import { findWorkspaces } from "../../executor/find-workspace.js";
import { RunPaths } from "../../executor/run-store.js";
import { reviewMarkdownFile } from "../../reviewing/review-workspace.js";
import { reviewSession } from "../../reviewing/session.js";
import { reviewSummaryLines } from "../../reviewing/summary.js";
import { withLiveProgress } from "../execute.js";
import { parseOutputMode } from "../output.js";
import { assertAgentPreflight } from "../preflight.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

interface ReviewCommandOptions {
  all?: boolean;
  run?: string;
  output: string;
}

/** `conductor review <workspace…> | --all`: a reviewing agent reads each workspace's changes. */
export function reviewCommand(): Command {
  return new Command("review")
    .description(
      "review workspaces' changes with a second, read-only agent session; saves review.json and review.md",
    )
    .argument("[workspaces...]", "workspace names or globs")
    .option("--all", "every workspace of the run that has a worktree")
    .option("--run <id>", RUN_OPTION_HELP)
    .option("--output <mode>", "plain or json", "plain")
    .addHelpText(
      "after",
      "\nExit 0 when every review gave an answer (whatever its verdict: `conductor checks` gates on it),\n" +
        "1 when a review failed (the reviewer erred, answered no review, or changed files: they are put back).",
    )
    .action(async (patterns: string[], options: ReviewCommandOptions, command: Command) => {
      if (options.all === true && patterns.length > 0) {
        throw new UsageError("name workspaces or pass --all, not both");
      }
      if (options.all !== true && patterns.length === 0) {
        throw new UsageError("name the workspaces to review (names or globs), or pass --all");
      }
      const output = parseOutputMode(options.output);
      const { run } = await chosenRun(command, options.run);
      const found = options.all
        ? run.plan.workspaces.flatMap((workspace) => {
            const state = run.workspaces[workspace.name];
            return state?.worktreeCreated && state.archived === undefined
              ? [{ run, workspace, state }]
              : [];
          })
        : findWorkspaces(run, patterns);
      for (const entry of found) await assertAgentPreflight(entry.workspace);
      let reviews: Awaited<ReturnType<typeof reviewSession>>["reviews"] = new Map();
      await withLiveProgress(
        output === "json" ? "json" : "plain",
        run,
        async (reporters, interrupt) => {
          const result = await reviewSession({
            previous: run,
            workspaces: found.map((entry) => entry.workspace.name),
            reporters,
            interrupt,
          });
          reviews = result.reviews;
          return result;
        },
      );
      const paths = new RunPaths(run.plan.repo.root, run.runId);
      const runArgs = options.run === undefined ? [] : ["--run", run.runId];
      if (output !== "json") {
        process.stdout.write(
          reviewSummaryLines(reviews, (name) => reviewMarkdownFile(paths, name), runArgs),
        );
      }
      const all = [...reviews.values()];
      const interrupted =
        reviews.size < found.length || all.some((review) => review.failure?.reason === "cancelled");
      const failed = all.some((review) => review.status === "failed");
      process.exitCode = interrupted
        ? ExitCode.Interrupted
        : failed
          ? ExitCode.WorkFailed
          : ExitCode.Success;
    });
}
