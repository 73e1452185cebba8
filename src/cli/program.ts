import type { Command } from "commander";
import { commandWord } from "./command-name.js";
import { addCommand, newProgram, runProgram } from "./program-base.js";

/**
 * Every command, by name, as a loader of its module. Only the command being run is imported:
 * the modules pull in execa, listr2, zod and the rest, and importing all of them
 * took longer than most commands' own work (0.4 s for `--version`, against 0.05 s for node).
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  init: async () => (await import("./commands/init.js")).initCommand(),
  import: async () => (await import("./commands/import.js")).importCommand(),
  validate: async () => (await import("./commands/validate.js")).validateCommand(),
  schema: async () => (await import("./commands/schema.js")).schemaCommand(),
  plan: async () => (await import("./commands/plan.js")).planCommand(),
  run: async () => (await import("./commands/run.js")).runCommand(),
  runs: async () => (await import("./commands/runs.js")).runsCommand(),
  continue: async () => (await import("./commands/continue.js")).continueCommand(),
  status: async () => (await import("./commands/status.js")).statusCommand(),
  logs: async () => (await import("./commands/logs.js")).logsCommand(),
  diff: async () => (await import("./commands/diff.js")).diffCommand(),
  open: async () => (await import("./commands/open.js")).openCommand(),
  serve: async () => (await import("./commands/serve.js")).serveCommand(),
  shell: async () => (await import("./commands/shell.js")).shellCommand(),
  exec: async () => (await import("./commands/exec.js")).execCommand(),
  spotlight: async () => (await import("./commands/spotlight.js")).spotlightCommand(),
  review: async () => (await import("./commands/review.js")).reviewCommand(),
  pr: async () => (await import("./commands/pr.js")).prCommand(),
  checks: async () => (await import("./commands/checks.js")).checksCommand(),
  conflicts: async () => (await import("./commands/conflicts.js")).conflictsCommand(),
  merge: async () => (await import("./commands/merge.js")).mergeCommand(),
  pick: async () => (await import("./commands/pick.js")).pickCommand(),
  archive: async () => (await import("./commands/archive.js")).archiveCommand(),
  clean: async () => (await import("./commands/clean.js")).cleanCommand(),
  cache: async () => (await import("./commands/cache.js")).cacheCommand(),
  report: async () => (await import("./commands/report.js")).reportCommand(),
  demo: async () => (await import("./commands/demo.js")).demoCommand(),
  doctor: async () => (await import("./commands/doctor.js")).doctorCommand(),
  ui: async () => (await import("./commands/ui.js")).uiCommand(),
};

/**
 * The commands `argv` needs: the one it names, none for a bare `--version`, else all of them
 * (help, a mistyped command that gets a did-you-mean).
 */
export function commandsFor(argv: readonly string[]): string[] {
  const word = commandWord(argv);
  if (word !== undefined) return Object.hasOwn(COMMANDS, word) ? [word] : Object.keys(COMMANDS);
  const args = argv.slice(2);
  const versionOnly = args.some((arg) => arg === "-V" || arg === "--version");
  return versionOnly && !args.some((arg) => arg === "-h" || arg === "--help")
    ? []
    : Object.keys(COMMANDS);
}

/** Builds the `conductor` program with the commands `argv` needs (all of them by default). */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = newProgram();
  const names = argv === undefined ? Object.keys(COMMANDS) : commandsFor(argv);
  const commands = await Promise.all(
    names.map((name) => (COMMANDS[name] as () => Promise<Command>)()),
  );
  for (const command of commands) addCommand(program, command);
  return program;
}

/** Runs the CLI with `argv` (as in process.argv) and returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  return runProgram(await buildProgram(argv), argv);
}
