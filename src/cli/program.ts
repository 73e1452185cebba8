import { Command, CommanderError, Option } from "commander";
import { ExitCode } from "../errors.js";
import { initCommand } from "./commands/init.js";
import { planCommand } from "./commands/plan.js";
import { schemaCommand } from "./commands/schema.js";
import { validateCommand } from "./commands/validate.js";
import { reportError } from "./errors.js";
import { packageVersion } from "./package-info.js";

/** Options every command inherits from the program. */
export interface GlobalOptions {
  config?: string;
  debug?: boolean;
}

/** Reads the program-level options from inside a subcommand's action. */
export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** Builds the `conductor` program with every command registered. */
export function buildProgram(): Command {
  const program = new Command("conductor")
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
    .addOption(new Option("--debug", "print stack traces of errors").env("CONDUCTOR_DEBUG"))
    .showHelpAfterError("(run with --help for usage)")
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText(
      "after",
      "\nExit codes: 0 success, 1 work failed, 2 usage or configuration error, 130 interrupted.",
    );
  for (const command of [initCommand(), validateCommand(), schemaCommand(), planCommand()]) {
    program.addCommand(command.exitOverride());
  }
  return program;
}

/** Runs the CLI with `argv` (as in process.argv) and returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
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
