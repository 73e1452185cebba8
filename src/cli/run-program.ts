import { addCommand, newProgram, runProgram } from "./program-base.js";

export { sessionRan } from "./session-ran.js";

/**
 * `conductor run` alone: the entry point of the run bundle (dist/run/, see scripts/bundle.mjs).
 * The same program as {@link import("./program.js").runCli} builds for a command line naming
 * `run`, bundled without the other commands, so it loads from a few files instead of dozens.
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = newProgram();
  addCommand(program, (await import("./commands/run.js")).runCommand());
  return runProgram(program, argv);
}
