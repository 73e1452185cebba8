import { Command } from "commander";
import { ExitCode, InterruptedError } from "../../errors.js";
import { findWorkspaces } from "../../executor/find-workspace.js";
import { findGitHubCli } from "../../review/github.js";
import { refuseWhileRunsAreLive } from "../../review/live-runs.js";
import { draftPullRequests, manualSteps, originUrl, pushAndOpen } from "../../review/pr.js";
import { scriptRedactor } from "../../review/workspace-process.js";
import { interruptOnSignals } from "../interrupt.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

interface PrOptions {
  describe?: boolean;
  draft?: boolean;
  force?: boolean;
  run?: string;
}

/** `conductor pr <workspace…>`: pushes workspace branches and opens pull requests with gh. */
export function prCommand(): Command {
  return new Command("pr")
    .description(
      "push workspace branches and open pull requests with gh (or print the commands to do it)",
    )
    .argument("<workspaces...>", "workspace names or globs")
    .option("--draft", "open the pull requests as drafts")
    .option(
      "--describe",
      "ask the workspace's agent (codex or claude) for a read-only turn that drafts title and body",
    )
    .option("--force", "also propose workspaces that did not succeed")
    .option("--run <id>", RUN_OPTION_HELP)
    .addHelpText(
      "after",
      "\nTitle: the first line of the task's prompt. Body: the prompt, the agent's final message, the\n" +
        "diff stat, the check result, the review's verdict and open findings, and Closes #N for a\n" +
        "task from an issue (--describe: the agent's draft of them). An open pull request of the\n" +
        "branch gets the new title and body (gh pr edit). Never force-pushes. Without an\n" +
        "authenticated gh or an origin remote, nothing is pushed, the push and compare commands are\n" +
        "printed instead, and the exit code is 1.",
    )
    .action(async (patterns: string[], options: PrOptions, command: Command) => {
      const { root, run } = await chosenRun(command, options.run);
      // A push moves remote-tracking refs.
      await refuseWhileRunsAreLive(root, "nothing was pushed");
      const found = findWorkspaces(run, patterns);
      const interrupt = interruptOnSignals(() => {});
      try {
        const drafts = await draftPullRequests(found, {
          force: options.force === true,
          ...(options.describe === true ? { describe: { signal: interrupt.signal } } : {}),
        });
        const origin = await originUrl(root);
        const first = drafts[0];
        const cli =
          origin === undefined || first === undefined
            ? ({ status: "missing" } as const)
            : await findGitHubCli({
                cwd: root,
                logFile: first.logFile,
                signal: interrupt.signal,
                // As pushAndOpen redacts the rest of this log.
                redactor: await scriptRedactor(first.found),
              });
        if (origin === undefined || cli.status !== "ready") {
          const why =
            origin === undefined
              ? "the repository has no origin remote"
              : cli.status === "missing"
                ? "gh (the GitHub CLI) is not installed"
                : "gh is not logged in (run `gh auth login`)";
          process.stdout.write(
            `${why}, so nothing was pushed. To open the pull requests yourself:\n`,
          );
          for (const draft of drafts) {
            process.stdout.write(
              `\n${draft.found.workspace.name}: ${draft.title}\n` +
                `${manualSteps(draft, origin)
                  .map((step) => `  ${step}`)
                  .join("\n")}\n` +
                `  (description: ${draft.bodyFile})\n`,
            );
          }
          // Nothing was pushed or opened, whatever the reason: a CI step must not pass as if it had.
          process.exitCode = ExitCode.WorkFailed;
          return;
        }
        for (const draft of drafts) {
          if (interrupt.signal.aborted)
            throw new InterruptedError("pr interrupted; the remaining workspaces were not pushed");
          const { url, updated } = await pushAndOpen(draft, cli, {
            draft: options.draft === true,
            signal: interrupt.signal,
          });
          process.stdout.write(
            `${draft.found.workspace.name}: pushed ${draft.found.workspace.branch}, ${updated ? (draft.found.workspace.pullRequest !== undefined ? "updated" : "updated the description of") : "opened"} ${url}\n`,
          );
        }
      } finally {
        interrupt.dispose();
      }
    });
}
