import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import os from "node:os";
import { endMarkedPids } from "./groups.js";

/** What to run on the user's terminal. */
export interface TerminalProgram {
  file: string;
  args: readonly string[];
  cwd: string;
  /** Added to conductor's own environment. */
  env: Readonly<Record<string, string>>;
}

/** How a program run on the terminal ended. */
export type TerminalOutcome =
  /** It exited; `exitCode` is its own, or 128 + the signal number when a signal ended it. */
  | { reason: "ended"; exitCode: number; signal: NodeJS.Signals | undefined }
  /** It could not start (no such program, not executable). */
  | { reason: "spawn-error"; message: string };

/** Marks the processes of one {@link runOnTerminal} call, descendants included. */
const TAG_VARIABLE = "CONDUCTOR_TERMINAL_TAG";

/** Signals that reach conductor alone (not through the terminal) and are handed on. */
const FORWARDED = ["SIGTERM", "SIGHUP"] as const;

/** Signals the terminal sends to its whole foreground group: the program gets them itself. */
const TERMINAL_SIGNALS = ["SIGINT", "SIGQUIT"] as const;

/**
 * Runs a program with the user's terminal as its stdin, stdout and stderr, in conductor's own
 * process group: the terminal's foreground group, so that the program can read the terminal and
 * Ctrl-C (SIGINT) reaches the program and everything it started, not conductor alone (a program in
 * a group of its own would be stopped by SIGTTIN the moment it read the terminal). Conductor
 * ignores Ctrl-C meanwhile and hands SIGTERM and SIGHUP on. When the program exits, whatever it
 * left running (background jobs, daemons) is ended, found by a tag in its environment.
 */
export async function runOnTerminal(program: TerminalProgram): Promise<TerminalOutcome> {
  const tag = randomUUID();
  const child = spawn(program.file, [...program.args], {
    cwd: program.cwd,
    env: { ...process.env, ...program.env, [TAG_VARIABLE]: tag },
    stdio: "inherit",
  });
  const ignore = () => {};
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const name of TERMINAL_SIGNALS) process.on(name, ignore);
  for (const name of FORWARDED) process.on(name, forward);
  try {
    const ended = await new Promise<TerminalOutcome>((resolve) => {
      child.once("error", (error) => resolve({ reason: "spawn-error", message: error.message }));
      child.once("exit", (code, signal) =>
        resolve({
          reason: "ended",
          exitCode: code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0),
          signal: signal ?? undefined,
        }),
      );
    });
    await endMarkedPids(`${TAG_VARIABLE}=${tag}`);
    return ended;
  } finally {
    for (const name of TERMINAL_SIGNALS) process.off(name, ignore);
    for (const name of FORWARDED) process.off(name, forward);
  }
}
