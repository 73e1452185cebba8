import os from "node:os";
import { Command } from "commander";
import { ExitCode, OperationError, unreachable } from "../../errors.js";
import { findWorkspace } from "../../executor/find-workspace.js";
import { serveWorkspace } from "../../review/serve.js";
import { interruptOnSignals } from "../interrupt.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

/** `conductor serve <workspace>`: the workspace's dev server, on its own ports, until Ctrl-C. */
export function serveCommand(): Command {
  return new Command("serve")
    .description("start a workspace's run script (dev server) in its worktree, on its own ports")
    .argument("<workspace>", "workspace name")
    .option("--run <id>", RUN_OPTION_HELP)
    .addHelpText(
      "after",
      "\n$CONDUCTOR_PORT is the first port of the workspace's block, so several workspaces can be\n" +
        "served side by side. Ctrl-C stops the script and every process it started (exit 130).",
    )
    .action(async (name: string, options: { run?: string }, command: Command) => {
      const { run } = await chosenRun(command, options.run);
      const found = findWorkspace(run, name);
      const interrupt = interruptOnSignals((signal) => {
        process.stderr.write(`\nconductor: ${signal}: stopping ${found.workspace.name}\n`);
      });
      try {
        const outcome = await serveWorkspace({
          found,
          homeDir: os.homedir(),
          signal: interrupt.signal,
          write: (text) => process.stdout.write(text),
          onStopped: (workspaces) => {
            process.stderr.write(
              `conductor: stopped the server of ${workspaces.join(", ")} first (scripts.run_mode: nonconcurrent)\n`,
            );
          },
          onPortsInUse: (listeners) => {
            process.stderr.write(
              `conductor: warning: ${listeners.join(", ")} of ${found.workspace.name}'s port block ${listeners.length === 1 ? "is" : "are"} in use already; a run script that uses ${listeners.length === 1 ? "it" : "them"} will not get ${listeners.length === 1 ? "it" : "them"}\n`,
            );
          },
          onStart: ({ port, count, script }) => {
            process.stderr.write(
              `conductor: serving ${found.workspace.name} on port ${port} (ports ${port}-${port + count - 1}): ${script}\n`,
            );
          },
        });
        switch (outcome.reason) {
          case "cancelled":
            process.exitCode = ExitCode.Interrupted;
            return;
          case "exited":
            return;
          case "exit-non-zero":
            process.stderr.write(
              `conductor: the run script exited with code ${outcome.exitCode}\n`,
            );
            process.exitCode = ExitCode.WorkFailed;
            return;
          case "signal":
            process.stderr.write(`conductor: the run script was killed by ${outcome.signal}\n`);
            process.exitCode = ExitCode.WorkFailed;
            return;
          case "spawn-error":
            throw new OperationError(`the run script could not start: ${outcome.message}`);
          case "timeout":
            process.exitCode = ExitCode.WorkFailed;
            return;
          default:
            unreachable(outcome);
        }
      } finally {
        interrupt.dispose();
      }
    });
}
