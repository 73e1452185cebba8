import { ConductorError } from "../errors.js";

/** Exit code for a bug in conductor itself (BSD EX_SOFTWARE). */
export const INTERNAL_ERROR_EXIT_CODE = 70;

/**
 * Prints a failure once, at the top level: the message and hint of expected errors, or a request
 * to report anything else. Stack traces only with `--debug`.
 */
export function reportError(error: unknown, debug: boolean, write: (text: string) => void): number {
  if (error instanceof ConductorError) {
    // A one-line problem keeps its remedy on the same line; a list of problems gets it below.
    if (error.hint && !error.message.includes("\n")) {
      const stop = /[.?!]$/.test(error.message) ? "" : ".";
      write(`conductor: ${error.message}${stop} ${error.hint}\n`);
    } else {
      write(`conductor: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ""}`);
    }
    if (debug && error.stack) write(`${error.stack}\n`);
    return error.exitCode;
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
