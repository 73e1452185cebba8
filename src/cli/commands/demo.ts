import { Command } from "commander";
import { reviewAndCheck } from "../../demo/review-and-check.js";
import { prepareDemo } from "../../demo/run-demo.js";
import { UsageError } from "../../errors.js";
import { newRunId } from "../../executor/run-store.js";
import { conductorCommand, setInvocation } from "../../hint/command.js";
import type { RunningUi } from "../../ui/start.js";
import { executePlan, finishRun } from "../execute.js";
import { interruptOnSignals } from "../interrupt.js";
import { parseOutputMode } from "../output.js";
import { servePageUntilInterrupted, startPage } from "../page.js";
import { loadProject, planProject } from "../project.js";
import { howToStartConductor } from "../started-as.js";

/** `conductor demo`: the whole flow, offline, with the real codex binary and a scripted model. */
export function demoCommand(): Command {
  return new Command("demo")
    .description(
      "run three tasks with the real codex against a built-in scripted model (offline, no API key)",
    )
    .option("--repo <dir>", "work on this git repository instead of a throwaway one")
    .option("--output <mode>", "auto, tty, plain or json", "auto")
    .option(
      "--best-of",
      "the best-of-N demo: two attempts at one task, a codex judge picks the winner, a dependent task starts from it",
    )
    .option(
      "--budget",
      "the budget demo: the three tasks one at a time under a token budget of half what they need; the run stops at it, nothing lost",
    )
    .option(
      "--ui",
      "serve the review page (conductor ui) during the demo and after it, until Ctrl-C",
    )
    .action(
      async (options: {
        repo?: string;
        output: string;
        ui?: boolean;
        bestOf?: boolean;
        budget?: boolean;
      }) => {
        const output = parseOutputMode(options.output);
        // With --output json stdout holds only the run's events: every sentence goes to stderr.
        const say = (text: string) =>
          (output === "json" ? process.stderr : process.stdout).write(text);
        if (options.bestOf === true && options.budget === true) {
          throw new UsageError("--best-of and --budget are two demos: give one of them");
        }
        const demo = await prepareDemo({
          repo: options.repo,
          bestOf: options.bestOf,
          budget: options.budget,
        });
        let page: RunningUi | undefined;
        try {
          say(`conductor demo: repository ${demo.repo}\n  config ${demo.configFile}\n\n`);
          const project = await loadProject(demo.repo, { config: demo.configFile });
          const plan = planProject(project, { runId: newRunId(new Date()) });
          // Every command printed from here on names the demo's repository and config file, so it
          // works from the folder the demo was started in.
          const program = howToStartConductor(process.cwd());
          setInvocation({ program, cwd: demo.repo, config: demo.configFile });
          if (options.ui === true) {
            // The page follows the run from its first event; its address comes before the progress.
            page = await startPage({ root: demo.repo, runId: plan.runId as string });
            say("\n");
          }
          const state = await executePlan({ plan, output, failureMode: "continue" });
          process.exitCode = finishRun(state, output);
          // The best-of and budget demos make their own point; the review half belongs to the main demo.
          if (options.bestOf !== true && options.budget !== true) {
            const interrupt = interruptOnSignals(() => {});
            try {
              await reviewAndCheck(state, say, interrupt.signal);
            } finally {
              interrupt.dispose();
            }
          }
          const next: [string[], string][] = options.budget
            ? [
                [["status"], "what was spent against the budget, and which workspaces it stopped"],
                [["plan", "--estimate"], "what the whole plan is expected to need, from this run"],
              ]
            : options.bestOf
              ? [
                  [["status"], "every workspace and the winner, with why"],
                  [["pick", "fix-average"], "how the attempts were ranked"],
                  [["diff", "fix-average-2"], "what the winning attempt changed"],
                  [
                    ["pick", "fix-average", "fix-average"],
                    "overrule the judge: make attempt 1 the winner",
                  ],
                  [["archive", "--losers"], "archive the attempts that lost, keep their branches"],
                ]
              : [
                  [["status"], "every workspace at a glance"],
                  [["diff", "add-greeting"], "what the agent changed"],
                  [["logs", "fix-average"], "the agent's log"],
                  [["serve", "add-greeting"], "its dev server, on its own port"],
                  [["archive", "--all"], "remove the worktrees, keep the branches"],
                ];
          const width = Math.max(...next.map(([args]) => conductorCommand(args).length));
          say(
            `\nNext, from this folder (the demo repository is ${demo.repo}):\n` +
              next
                .map(([args, what]) => `  ${conductorCommand(args).padEnd(width)}  # ${what}\n`)
                .join("") +
              `\nBefore a run of your own: \`${program} doctor\` checks codex, its login, git and disk.\n`,
          );
          if (page === undefined) {
            say(
              `To review in a browser: \`${conductorCommand(["ui"])}\` serves a page of this run.\n`,
            );
          } else if (state.status !== "interrupted") {
            // The scripted model stays up meanwhile, so the page's continue works too.
            const shown = page;
            page = undefined;
            await servePageUntilInterrupted(shown);
          }
        } finally {
          await page?.close();
          await demo.stop();
        }
      },
    );
}
