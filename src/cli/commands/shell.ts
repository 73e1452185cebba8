import os from "node:os";
import { Command } from "commander";
import { findWorkspace } from "../../executor/find-workspace.js";
import { runInWorkspace, terminalTitle } from "../../review/workspace-terminal.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";
import { exitWithTerminalOutcome } from "./exec.js";

/** `conductor shell <workspace>`: the user's shell in the worktree, with the scripts' environment. */
export function shellCommand(): Command {
  return new Command("shell")
    .description(
      "open your shell ($SHELL) in a workspace's worktree, with the environment its scripts get",
    )
    .argument("<workspace>", "workspace name")
    .option("--run <id>", RUN_OPTION_HELP)
    .addHelpText(
      "after",
      "\nThe shell gets CONDUCTOR_*, the workspace's port block ($CONDUCTOR_PORT) and the config's env;\n" +
        "its prompt starts with (conductor:<workspace>). Leaving it ends whatever it left running;\n" +
        "conductor exits with the shell's exit code.",
    )
    .action(async (name: string, options: { run?: string }, command: Command) => {
      const { run } = await chosenRun(command, options.run);
      const found = findWorkspace(run, name);
      const outcome = await runInWorkspace({
        found,
        homeDir: os.homedir(),
        command: { kind: "shell" },
        shell: process.env.SHELL,
        onStart: ({ cwd, port, count }) => {
          if (process.stdout.isTTY) process.stdout.write(terminalTitle(found.workspace.name));
          process.stderr.write(
            `conductor: shell in ${found.workspace.name} (${cwd}), ports ${port}-${port + count - 1}; exit to leave\n`,
          );
        },
      });
      exitWithTerminalOutcome(outcome, "the shell");
    });
}
