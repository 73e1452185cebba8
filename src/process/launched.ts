import { type ChildProcess, spawn } from "node:child_process";
import type { Readable } from "node:stream";

/** A program for {@link runProcess} to start (see run.ts), in the terms of the spawn itself. */
export interface LaunchRequest {
  /** Program, or with `shell` a `/bin/sh` command line (joined with `args` by spaces). */
  file: string;
  args: readonly string[];
  shell: boolean;
  cwd: string;
  /** The program's whole environment. */
  env: Readonly<Record<string, string | undefined>>;
  /** Written to its stdin, then closed; without it stdin is empty (/dev/null). */
  stdinText: string | undefined;
  /** How long its leftovers get between SIGTERM and SIGKILL. */
  graceMs: number;
}

/** How a started program ended, or why it never started. */
export type Ending =
  | {
      code: number | null;
      /** Its name (SIGTERM), or `signal <n>` for one Node has no name for (a real-time one). */
      signal: string | null;
      /** Every process the program left was ended before this was reported (the reaper did). */
      reaped: boolean;
    }
  | { error: Error };

/** A program's two output streams; each ends when the last process holding it open does. */
export interface ProgramOutput {
  stdout: Readable;
  stderr: Readable;
}

/** A program being started or running, however it was started. */
export interface Launched {
  /** Its output, once it is started; undefined when it never was. */
  output: Promise<ProgramOutput | undefined>;
  /** Its pid, also the id of the process group it leads; undefined when it never started. */
  pid: Promise<number | undefined>;
  ended: Promise<Ending>;
  /**
   * Gives up on the process that started it, when that one does not report the end in time (a
   * stopped reaper): `ended` then settles as that process ended. Nothing to do for a program
   * forked from Node.
   */
  abandon(): void;
}

/** A {@link Launched} that never started, for `error`. */
export function notLaunched(error: Error): Launched {
  return {
    output: Promise.resolve(undefined),
    pid: Promise.resolve(undefined),
    ended: Promise.resolve({ error }),
    abandon() {},
  };
}

/**
 * Starts the program forked from Node itself, the leader of a process group of its own (so the
 * whole tree can be signalled at once): where no reaper runs (see reaper.ts). Failures to start
 * that Node throws instead of emitting (a working folder that is a file, an argument with a NUL
 * byte, arguments beyond the system's limit) come back as an ending, never thrown. One ending
 * Node cannot tell: a program a real-time signal ended reads as exit code 0 (Node has no name
 * for the signal, and libuv leaves the code at 0); a reaper reports it as the signal it was.
 */
export function spawnDirectly(request: LaunchRequest): Launched {
  // node:child_process itself, not execa: of execa this used only the spawn, and its option
  // handling cost each program about 0.6 ms of conductor's CPU (measured, one agent per workspace).
  let child: ChildProcess;
  try {
    child = spawn(request.file, request.args, {
      cwd: request.cwd,
      env: request.env,
      shell: request.shell ? "/bin/sh" : false,
      detached: true,
      stdio: [request.stdinText === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
  } catch (error) {
    return notLaunched(error as Error);
  }
  const ended = new Promise<Ending>((resolve) => {
    child.on("error", (error) => resolve({ error }));
    child.once("exit", (code, signal) => resolve({ code, signal, reaped: false }));
  });
  if (request.stdinText !== undefined && child.stdin) {
    child.stdin.on("error", () => {}); // the program may exit without reading its input
    child.stdin.end(request.stdinText);
  }
  const { stdout, stderr } = child;
  return {
    output: Promise.resolve(stdout && stderr ? { stdout, stderr } : undefined),
    pid: Promise.resolve(child.pid),
    ended,
    abandon() {},
  };
}
