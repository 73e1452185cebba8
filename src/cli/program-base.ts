import { Command, CommanderError, Option } from "commander";
import { ExitCode, UsageError } from "../errors.js";
import { setInvocation } from "../hint/command.js";
import { spotlightNotice } from "../spotlight/notice.js";
import { reportError } from "./errors.js";
import type { GlobalOptions } from "./global-options.js";
import { packageVersion } from "./package-info.js";

/** The `conductor` program with its global options and hooks, and no command yet. */
export function newProgram(): Command {
  return new Command("conductor")
    .description(
      "Run many Codex coding sessions in parallel, each in its own git worktree and branch, from one conductor.yaml.",
    )
    .version(packageVersion(), "-V, --version", "print conductor's version")
    .addOption(
      new Option(
        "-c, --config <file>",
        "configuration file (default: conductor.yaml here or at the repository root)",
      ),
    )
    .addOption(new Option("-C, --cwd <dir>", "run as if conductor was started in <dir>"))
    .addOption(new Option("--debug", "print stack traces of errors").env("CONDUCTOR_DEBUG"))
    .hook("preAction", (command, actionCommand) => {
      const { cwd: dir, config } = command.opts<GlobalOptions>();
      // Printed hints repeat these, so that they work as printed.
      setInvocation({ cwd: dir, config });
      if (dir !== undefined) {
        try {
          process.chdir(dir);
        } catch {
          throw new UsageError(`-C ${dir}: no such folder`);
        }
      }
      // Spotlight changes the main checkout: every command says so while it is on.
      if (actionCommand.name() !== "spotlight") {
        const notice = spotlightNotice(process.cwd());
        if (notice !== undefined) process.stderr.write(`${notice}\n`);
      }
    })
    .showHelpAfterError("(run with --help for usage)")
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText(
      "after",
      "\nExit codes: 0 success, 1 work failed, 2 usage or configuration error, 130 interrupted.",
    );
}

/**
 * Adds `command` to `program` with it and every command under it throwing on a usage error instead
 * of exiting the process, as the program does, so that {@link runProgram} ends every one of them
 * with exit 2. Commander passes `exitOverride` on only to the commands `.command()` makes after it
 * was set, and the command modules make theirs (`cache list`, `report merge`) before they are
 * added here.
 */
export function addCommand(program: Command, command: Command): void {
  program.addCommand(throwingOnUsageErrors(command));
}

function throwingOnUsageErrors(command: Command): Command {
  command.exitOverride();
  for (const sub of command.commands) throwingOnUsageErrors(sub);
  return command;
}

/** Parses `argv` (as in process.argv) with `program` and returns the exit code. */
export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.Success;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every other commander error is a usage error it already printed.
      return error.exitCode === 0 ? ExitCode.Success : ExitCode.Usage;
    }
    const debug = Boolean(program.opts<GlobalOptions>().debug) || argv.includes("--debug");
    return reportError(error, debug, (text) => process.stderr.write(text));
  }
}
