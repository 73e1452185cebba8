import { Command } from "commander";
import { ExitCode, StateError } from "../../errors.js";
import { findWorkspace } from "../../executor/find-workspace.js";
import { isRunLive, loadRun } from "../../executor/load-run.js";
import { RunPaths } from "../../executor/run-store.js";
import { conductorCommand } from "../../hint/command.js";
import { shellCommand } from "../../hint/shell-quote.js";
import { TerminalText } from "../../report/terminal-text.js";
import { followFile } from "../../review/follow-file.js";
import {
  defaultLogStep,
  failureWithoutLog,
  LOG_STEPS,
  logPresence,
  logWasWritten,
  parseLogStep,
} from "../../review/logs.js";
import { isBeingServed } from "../../review/serve.js";
import { scriptRedactor } from "../../review/workspace-process.js";
import { interruptOnSignals } from "../interrupt.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

interface LogsOptions {
  step?: string;
  follow?: boolean;
  run?: string;
}

/** `conductor logs <workspace>`: prints (or follows) the log of one step of a workspace. */
export function logsCommand(): Command {
  return new Command("logs")
    .description("print the log of a workspace's step (default: where it stopped, else the agent)")
    .argument("<workspace>", "workspace name")
    .option("--step <step>", `which log: ${LOG_STEPS.join(", ")}`)
    .option(
      "-f, --follow",
      "keep printing as the log grows, until the run finishes (--step run: while `conductor serve` runs it; Ctrl-C ends)",
    )
    .option("--run <id>", RUN_OPTION_HELP)
    .action(async (name: string, options: LogsOptions, command: Command) => {
      const step = options.step === undefined ? undefined : parseLogStep(options.step);
      const { root, run } = await chosenRun(command, options.run);
      const found = findWorkspace(run, name);
      const byDefault = defaultLogStep(found.state);
      const chosen = step ?? byDefault;
      const paths = new RunPaths(root, found.run.runId);
      const file = paths.logFile(found.workspace.name, chosen);
      // Whether the log's writer is still at work: the run, or for the run script's log,
      // `conductor serve`, which runs it after the run has finished.
      const writing = async () => (chosen === "run" ? isBeingServed(found) : isRunLive(found.run));
      const live = await writing();
      const presence = await logPresence(file);
      if (presence === "not-a-file") {
        throw new StateError(
          `workspace ${found.workspace.name}'s ${chosen} log ${file} is not a file, so it cannot be shown`,
          {
            // Quoted as a shell reads it: the repository's path may hold a quote.
            hint: `Something other than conductor put it there; move it away: \`${shellCommand(["mv", file, `${file}.moved`])}\``,
          },
        );
      }
      // The run wrote this log and the file is gone since (removed by hand or by a script):
      // saying the step printed nothing would send the user looking in the wrong place.
      if (
        presence === "missing" &&
        logWasWritten(found.state, chosen) &&
        !(options.follow && live)
      ) {
        throw new StateError(
          `workspace ${found.workspace.name} has no ${chosen} log: its ${chosen} step wrote one, but ${file} is missing (removed since the run wrote it)`,
          {
            hint: `\`${conductorCommand(["status", "--run", found.run.runId])}\` shows how each step of ${found.workspace.name} ended; run the workspace again to get a new log.`,
          },
        );
      }
      if (presence !== "output" && !(options.follow && live)) {
        // Asked for no log in particular, after a failure: say what failed instead of refusing.
        const instead = step === undefined ? failureWithoutLog(found.state, byDefault) : undefined;
        if (instead !== undefined) {
          process.stdout.write(instead);
          return;
        }
        throw new StateError(
          `workspace ${found.workspace.name} has no ${chosen} log: ${chosen === "run" ? "`conductor serve` has not run it" : `its ${chosen} step did not run or printed nothing`}`,
          { hint: `Its logs are in ${paths.workspaceDir(found.workspace.name)}` },
        );
      }
      // Redacted again as printed: the log was redacted as conductor wrote it, but it is a file
      // in the repository that a later agent could have written to.
      const redacting = (await scriptRedactor(found)).stream();
      // On a terminal, the agent's escape sequences are not replayed (colours aside); piped or
      // redirected, the log comes as it was written.
      const screen = process.stdout.isTTY ? new TerminalText() : undefined;
      redacting.on("data", (chunk: Buffer | string) =>
        process.stdout.write(screen === undefined ? chunk : screen.push(chunk)),
      );
      // Ctrl-C while following is how one stops watching: end quietly, with the usual code.
      const interrupt = interruptOnSignals(() => {});
      try {
        await followFile(file, {
          from: 0,
          write: (text) => redacting.write(text),
          signal: interrupt.signal,
          // Without --follow, one pass over the file is all.
          intervalMs: options.follow ? undefined : 0,
          done: async () => {
            if (!options.follow) return true;
            if (chosen === "run") return !(await isBeingServed(found));
            const run = await loadRun(root, found.run.runId).catch(() => undefined);
            return run === undefined || run.status !== "running";
          },
        });
      } finally {
        interrupt.dispose();
        await new Promise<void>((resolve) => redacting.end(resolve));
        if (screen !== undefined) process.stdout.write(screen.end());
      }
      if (interrupt.signal.aborted) process.exitCode = ExitCode.Interrupted;
    });
}
