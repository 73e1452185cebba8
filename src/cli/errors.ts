import { ConductorError, ExitCode } from "../errors.js";
import { GitCommandError } from "../git/run-git.js";
import { showControls } from "../report/terminal-text.js";

/** Exit code for a bug in conductor itself (BSD EX_SOFTWARE). */
export const INTERNAL_ERROR_EXIT_CODE = 70;

/** Git's exit code for a command line it does not understand. */
const GIT_USAGE_ERROR = 129;

/**
 * Prints a failure once, at the top level: the message and hint of expected errors, or a request
 * to report anything else. Stack traces only with `--debug`.
 */
export function reportError(error: unknown, debug: boolean, write: (text: string) => void): number {
  if (error instanceof ConductorError) {
    // A message may name what an agent made (an uncommitted file, a conflicted path): its
    // control characters are shown, never sent to the terminal as escape sequences.
    const message = showControls(error.message);
    const hint = error.hint === undefined ? undefined : showControls(error.hint);
    // A one-line problem keeps its remedy on the same line; a list of problems gets it below.
    if (hint && !message.includes("\n")) {
      const stop = /[.?!]$/.test(message) ? "" : ".";
      write(`conductor: ${message}${stop} ${hint}\n`);
    } else {
      write(`conductor: ${message}\n${hint ? `  ${hint}\n` : ""}`);
    }
    if (debug && error.stack) write(`${error.stack}\n`);
    return error.exitCode;
  }
  // Git refused something in the repository or a worktree (an embedded repository without a
  // commit, a full disk, a corrupt object): git's own message says what. Git's usage error (129)
  // means conductor asked for something git does not have: a bug, reported as one.
  if (error instanceof GitCommandError && error.exitCode !== GIT_USAGE_ERROR) {
    const command = gitCommandName(error.args);
    write(
      `conductor: git${command === undefined ? "" : ` ${command}`} failed: ${error.message.trim()}\n`,
    );
    write(
      debug && error.stack
        ? `${error.stack}\n`
        : "  Run again with --debug to see where conductor ran it.\n",
    );
    return ExitCode.WorkFailed;
  }
  const message = error instanceof Error ? error.message : String(error);
  write(`conductor: internal error: ${message}\n`);
  write(
    debug && error instanceof Error && error.stack
      ? `${error.stack}\n`
      : "  This is a bug in conductor. Run again with --debug and report the output.\n",
  );
  return INTERNAL_ERROR_EXIT_CODE;
}

/**
 * The git subcommand of `args`, past global options such as `-c name=value` and `-C dir`;
 * undefined for one of conductor's git scripts (several commands in one shell).
 */
function gitCommandName(args: readonly string[]): string | undefined {
  if (args[0] === "(script)") return undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "-c" || arg === "-C") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}
