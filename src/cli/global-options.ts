import type { Command } from "commander";

/** Options every command inherits from the program. */
export interface GlobalOptions {
  config?: string;
  cwd?: string;
  debug?: boolean;
}

/** Reads the program-level options from inside a subcommand's action. */
export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}
