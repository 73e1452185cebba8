import { Command, CommanderError, Option } from "commander";
import { ExitCode, UsageError } from "../errors.js";
import { setInvocation } from "../hint/command.js";
import { whileEnvironmentSettled } from "../process/settled-environment.js";
import { didYouMean } from "../schema/suggest.js";
import { spotlightNotice } from "../spotlight/notice.js";
import { reportError } from "./errors.js";
import type { GlobalOptions } from "./global-options.js";
import { packageVersion } from "./package-info.js";
import { npxWhenStartedByNpm } from "./started-as.js";

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
      // `help` only prints: as `--help`, it neither changes folder nor reports on spotlight.
      if (HELP_COMMANDS.has(actionCommand)) return;
      const { cwd: dir, config } = command.opts<GlobalOptions>();
      // Printed hints repeat these, so that they work as printed.
      setInvocation({ cwd: dir, config }, npxWhenStartedByNpm);
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

/** The `help` commands {@link withHelpCommands} added. */
const HELP_COMMANDS = new WeakSet<Command>();

/**
 * Replaces commander's own `help [command]` of `command` and of every command under it with one
 * that says an unknown command is unknown: commander's prints the whole help to stderr and exits
 * 2 without a word about `conductor help nope`'s `nope`. Added last, where commander lists its own.
 */
function withHelpCommands(command: Command): void {
  for (const sub of command.commands) withHelpCommands(sub);
  const implicit = command
    .createHelp()
    .visibleCommands(command)
    .find((candidate) => candidate.name() === "help" && !command.commands.includes(candidate));
  if (implicit === undefined) return;
  const help = new Command("help")
    .description(implicit.description())
    .argument("[command]")
    // `help cache list` is the help of `cache list`.
    .allowExcessArguments()
    .action((_name: string | undefined, _options: unknown, self: Command) => {
      let target = command;
      for (const name of self.args) {
        // Words past a command without subcommands are its arguments, as commander's help has it.
        if (target.commands.length === 0) break;
        const named = target.commands.find(
          (candidate) => candidate.name() === name || candidate.aliases().includes(name),
        );
        if (named === undefined) unknownCommand(target, name);
        target = named;
      }
      target.help();
    })
    .exitOverride();
  HELP_COMMANDS.add(help);
  command.addCommand(help);
  // Asking for the implicit one above made commander create it and mark it wanted for good
  // (`_addImplicitHelpCommand`): without this, every help lists `help [command]` twice.
  command.helpCommand(false);
}

/** Fails as commander fails `conductor nope` (the suggestion is conductor's own). */
function unknownCommand(parent: Command, name: string): never {
  const similar = didYouMean(
    name,
    parent.commands.map((candidate) => candidate.name()),
  );
  const suggestion = similar === undefined ? "" : `\n(Did you mean ${similar}?)`;
  parent.error(`error: unknown command '${name}'${suggestion}`, {
    code: "commander.unknownCommand",
  });
}

/** Parses `argv` (as in process.argv) with `program` and returns the exit code. */
export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  withHelpCommands(program);
  try {
    // The environment stays as it is for the whole command (see whileEnvironmentSettled).
    await whileEnvironmentSettled(() => program.parseAsync([...argv]));
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
