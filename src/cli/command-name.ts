/**
 * The command word of a command line (as in process.argv): the first word that is neither an
 * option nor the value of -c/-C, before any `--`; undefined when there is none (`--version`,
 * `--help`). Depends on nothing, so the entry point can choose what to load before loading it.
 */
export function commandWord(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") return undefined;
    if (arg === "-c" || arg === "--config" || arg === "-C" || arg === "--cwd") {
      i++; // its value
      continue;
    }
    if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}
