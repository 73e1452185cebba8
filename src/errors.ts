/**
 * Every expected failure of conductor is one of these classes. The CLI prints `message` (and `hint`)
 * once, without a stack trace, and exits with `exitCode`. Anything else that reaches the top level is a
 * bug and is reported as an internal error.
 */

/** Process exit codes of the whole tool (documented in the README). */
export const ExitCode = {
  /** Every workspace succeeded / the command did what was asked. */
  Success: 0,
  /** Work failed: a task, its agent or its check failed. */
  WorkFailed: 1,
  /** Usage or configuration error; nothing was created. */
  Usage: 2,
  /** Interrupted by SIGINT, SIGTERM or SIGHUP. */
  Interrupted: 130,
} as const;

/** One of the documented exit codes. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class of expected, user-facing failures. */
export abstract class ConductorError extends Error {
  /** Exit code the CLI ends with when this error reaches the top level. */
  abstract readonly exitCode: ExitCode;
  /** What the user can do about it, printed under the message. */
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** One problem found in a configuration file, located precisely. */
export interface ConfigIssue {
  /** Path of the file as the user named it. */
  file: string;
  /** 1-based line, or undefined when the problem has no place (e.g. an empty file). */
  line: number | undefined;
  /** 1-based column. */
  column: number | undefined;
  /** Key path such as `tasks[2].depends_on[0]`; empty for the document itself. */
  keyPath: string;
  /** What is wrong and how to fix it. */
  message: string;
}

/** Formats an issue as `file:line:col: keyPath: message`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where =
    issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  const key = issue.keyPath === "" ? "" : `${issue.keyPath}: `;
  return `${where}: ${key}${issue.message}`;
}

/** The configuration file is missing, unreadable or invalid. Carries every issue of the file. */
export class ConfigError extends ConductorError {
  readonly exitCode = ExitCode.Usage;
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options: { hint?: string } = {}) {
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    const file = issues[0]?.file ?? "configuration";
    super(
      `${file} has ${count}:\n${issues.map((issue) => `  ${formatConfigIssue(issue)}`).join("\n")}`,
      options,
    );
    this.issues = issues;
  }
}

/** The command line itself is wrong (unknown workspace, bad --shard, conflicting flags). */
export class UsageError extends ConductorError {
  readonly exitCode = ExitCode.Usage;
}

/** The repository cannot be used: not a git repository, no commits, unknown base ref. */
export class RepositoryError extends ConductorError {
  readonly exitCode = ExitCode.Usage;
}

/** A branch or worktree path the plan needs already exists, or state on disk is in the way. */
export class WorkspaceConflictError extends ConductorError {
  readonly exitCode = ExitCode.Usage;
}

/** Run state is missing, unreadable, or does not match the plan (e.g. resume after the plan changed). */
export class StateError extends ConductorError {
  readonly exitCode = ExitCode.Usage;
}

/** Preflight found that the run cannot work (no credentials, no agent, no room); nothing was created. */
export class PreflightError extends ConductorError {
  readonly exitCode = ExitCode.Usage;
}

/** A safety check refused to destroy work (dirty worktree, unmerged commits) without `--force`. */
export class UnsafeOperationError extends ConductorError {
  readonly exitCode = ExitCode.WorkFailed;
}

/** A git or file operation failed while doing work. */
export class OperationError extends ConductorError {
  readonly exitCode = ExitCode.WorkFailed;
}

/** The run was interrupted by a signal. */
export class InterruptedError extends ConductorError {
  readonly exitCode = ExitCode.Interrupted;
}

/** Narrowing helper for exhaustive switches: a compile error when a case is missing. */
export function unreachable(value: never): never {
  throw new Error(`internal error: unexpected value ${JSON.stringify(value)}`);
}
