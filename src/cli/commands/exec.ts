import os from "node:os";
import { Command } from "commander";
import { UsageError, unreachable } from "../../errors.js";
import { findWorkspace } from "../../executor/find-workspace.js";
import { conductorCommand } from "../../hint/command.js";
import type { TerminalOutcome } from "../../process/terminal.js";
import { runInWorkspace } from "../../review/workspace-terminal.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

/** `conductor exec <workspace> -- <command…>`: one command in the worktree, its exit code passed on. */
export function execCommand(): Command {
  return new Command("exec")
    .description("run one command in a workspace's worktree, with the environment its scripts get")
    .argument("<workspace>", "workspace name")
    .argument("[command...]", "the command and its arguments, after --")
    .option("--run <id>", RUN_OPTION_HELP)
    .addHelpText(
      "after",
      "\nExample: conductor exec add-auth -- npm test\n" +
        "The command runs without a shell (use -- sh -c '…' for one), on your terminal; Ctrl-C goes to\n" +
        "it and everything it started. conductor exits with its exit code (128+n when signal n ended\n" +
        "it) and ends whatever it left running.",
    )
    .action(async (name: string, argv: string[], options: { run?: string }, command: Command) => {
      if (argv.length === 0) {
        throw new UsageError("exec needs a command to run", {
          // With the --run given: without it the example would run in the latest run's workspace.
          hint: `Put it after --, e.g. \`${conductorCommand(["exec", name, ...(options.run === undefined ? [] : ["--run", options.run]), "--", "npm", "test"])}\``,
        });
      }
      const { run } = await chosenRun(command, options.run);
      const found = findWorkspace(run, name);
      const outcome = await runInWorkspace({
        found,
        homeDir: os.homedir(),
        command: { kind: "exec", argv },
        shell: process.env.SHELL,
        onStart: () => {},
      });
      exitWithTerminalOutcome(outcome, argv[0] as string);
    });
}

/**
 * Passes a terminal program's exit code on as conductor's own; one that could not start ends
 * conductor as a shell would: 127 when it was not found, 126 otherwise.
 */
export function exitWithTerminalOutcome(outcome: TerminalOutcome, what: string): void {
  switch (outcome.reason) {
    case "ended":
      process.exitCode = outcome.exitCode;
      return;
    case "spawn-error":
      process.stderr.write(`conductor: ${what} could not start: ${outcome.message}\n`);
      process.exitCode = outcome.message.includes("ENOENT") ? 127 : 126;
      return;
    default:
      unreachable(outcome);
  }
}
