import { existsSync } from "node:fs";
import path from "node:path";
import { shellCommand, shellQuote } from "./shell-quote.js";

/** The global options of this invocation that a printed command must repeat to work the same. */
export interface Invocation {
  /** `-C DIR` as the user gave it. */
  cwd?: string | undefined;
  /** `-c FILE` as the user gave it (relative to `-C`, as conductor reads it). */
  config?: string | undefined;
  /** How the user starts conductor, when not as `conductor`: `npx conductor` when npx started it, the demo's own (see started-as.ts). */
  program?: string | undefined;
}

let current: Invocation = {};

/**
 * Works out `program` when no hint has needed it yet: the CLI's answer looks along PATH, which
 * is no work for the start of every command.
 */
let findProgram: (() => string | undefined) | undefined;

/** The recorded invocation, its program worked out first if a hint needs it now. */
function resolved(): Invocation {
  if (findProgram !== undefined) {
    const find = findProgram;
    findProgram = undefined;
    current.program ??= find();
  }
  return current;
}

/** The global options of this process's command line, as recorded. */
export function currentInvocation(): Invocation {
  return { ...resolved() };
}

/**
 * Records the global options of this process's command line (called once by the CLI);
 * `findProgram` says how the user starts conductor when `program` is not given, asked only once a
 * hint is printed.
 */
export function setInvocation(invocation: Invocation, program?: () => string | undefined): void {
  current = { ...invocation };
  findProgram = invocation.program === undefined ? program : undefined;
}

/**
 * A conductor command line to print as a hint: the program, the global options in use (`-C`,
 * `-c`, exactly as given, so the command works from where the user is) and `args`, quoted for a
 * POSIX shell. `invocation` replaces the recorded options (the demo names its own repository).
 */
export function conductorCommand(
  args: readonly (string | Placeholder)[],
  invocation: Invocation = resolved(),
): string {
  const globals: string[] = [];
  if (invocation.cwd !== undefined) globals.push("-C", invocation.cwd);
  if (invocation.config !== undefined) globals.push("-c", invocation.config);
  return [invocation.program ?? "conductor", shellCommand(globals), ...quotedWords(args)]
    .filter((word) => word !== "")
    .join(" ");
}

/** The config file conductor reads when not given `-c`. */
const DEFAULT_CONFIG_FILE = "conductor.yaml";

/**
 * A conductor command line about a run (as {@link conductorCommand}), for a command that must
 * read the run's own config file (`run --resume` refuses another file's run): `-c` names that
 * file unless the options in use lead to it already. `configFile` is the file as the run records
 * it (relative to the repository `root`, absolute outside it; absent in runs of older versions,
 * which were made from conductor.yaml). A run found by `--run <id>` may come from any file.
 */
export function runConductorCommand(
  root: string,
  configFile: string | undefined,
  args: readonly (string | Placeholder)[],
): string {
  const invocation = resolved();
  const file = path.resolve(root, configFile ?? DEFAULT_CONFIG_FILE);
  // The CLI has gone into `-C` already: `-c` and the default lookup start here.
  const here = process.cwd();
  const inUse =
    invocation.config === undefined
      ? defaultConfigFile(here, root)
      : path.resolve(here, invocation.config);
  if (inUse === file) return conductorCommand(args, invocation);
  const relative = path.relative(here, file);
  const shown =
    relative !== "" && relative.split(path.sep)[0] !== ".." && !path.isAbsolute(relative)
      ? relative
      : file;
  return conductorCommand(args, { ...invocation, config: shown });
}

/** The file conductor reads in `here` without `-c`: conductor.yaml there, else at the root. */
function defaultConfigFile(here: string, root: string): string {
  const inHere = path.join(here, DEFAULT_CONFIG_FILE);
  if (existsSync(inHere)) return inHere;
  const atRoot = path.join(root, DEFAULT_CONFIG_FILE);
  return existsSync(atRoot) ? atRoot : inHere;
}

/** Words for a shell: quoted where they need it, placeholders as they are. */
function quotedWords(args: readonly (string | Placeholder)[]): string[] {
  return args.map((arg) => (typeof arg === "string" ? shellQuote(arg) : arg.placeholder));
}

/**
 * A git command line to print as a hint about the repository at `root`, quoted for a POSIX shell.
 * It names the repository (`git -C <root>`) when conductor was started with `-C`: the user's shell
 * is then elsewhere, where a bare `git` finds no repository (or another one). Without `-C`
 * conductor ran inside the repository, and the shorter command works there as printed.
 */
export function gitCommand(root: string, args: readonly (string | Placeholder)[]): string {
  const where = current.cwd === undefined ? [] : ["-C", root];
  return quotedWords(["git", ...where, ...args]).join(" ");
}

/**
 * A command line for a program with no `-C` of its own (gh), to run in the repository at
 * `root`: behind `cd <root> &&` when conductor was started elsewhere (-C), so that it works
 * where the user is; as it is otherwise.
 */
export function commandIn(root: string, words: readonly (string | Placeholder)[]): string {
  const command = quotedWords(words).join(" ");
  return current.cwd === undefined ? command : `cd ${shellQuote(root)} && ${command}`;
}

/** A word the user fills in (`<workspace>`, `"…"`), printed as it is. */
export interface Placeholder {
  placeholder: string;
}

/** Marks `text` as a word for the user to fill in. */
export function placeholder(text: string): Placeholder {
  return { placeholder: text };
}
