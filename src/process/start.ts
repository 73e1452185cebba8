import { type ChildProcess, spawn } from "node:child_process";
import { statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { isExecutableFile, isShellName, type Launched, launchInShell } from "./shell-pool.js";

/**
 * Starting a program for {@link runProcess}: from a shell of the pool where it can (see
 * {@link launchInShell}), forked from Node otherwise. Both give a program in a session of its
 * own with its stdout and stderr readable here; only Node's spawn gives a stdin to write to.
 */

/** How a started program ended, or why it never started. */
export type Ending = { code: number | null; signal: NodeJS.Signals | null } | { error: Error };

export interface StartedProgram {
  /** Its process id and process group id; undefined when it never started. */
  pid: number | undefined;
  stdout: Readable | null;
  stderr: Readable | null;
  stdin: Writable | null;
  ended: Promise<Ending>;
  /** Called once its outputs are over: whether they closed by themselves or had to be cut. */
  done(outputsClosed: boolean): void;
}

export interface StartOptions {
  file: string;
  args: readonly string[];
  shell: boolean;
  cwd: string;
  /** Added to conductor's environment. */
  env: Readonly<Record<string, string>>;
  /** Whether the program gets a stdin to write to. */
  stdin: boolean;
}

/** Starts the program; throws for failures Node's spawn throws (see runProcess). */
export async function startProgram(options: StartOptions): Promise<StartedProgram> {
  const argv = options.stdin ? undefined : launchableArgv(options);
  const launched = argv === undefined ? undefined : await launchInShell({ ...options, argv });
  return launched === undefined ? spawnFromNode(options) : fromLaunch(launched);
}

/**
 * The command line a shell of the pool can launch exactly as Node would spawn it, or undefined:
 * a program Node could not start goes to Node, so that its error reads as it always did.
 */
function launchableArgv(options: StartOptions): [string, ...string[]] | undefined {
  const texts = [options.file, ...options.args, ...Object.values(options.env)];
  if (texts.some((text) => text.includes("\0"))) return undefined;
  if (!Object.keys(options.env).every(isShellName)) return undefined;
  if (!isFolder(options.cwd)) return undefined;
  if (options.shell) return ["/bin/sh", "-c", [options.file, ...options.args].join(" ")];
  const program = findProgram(options.file, options.cwd, options.env.PATH ?? process.env.PATH);
  return program === undefined ? undefined : [program, ...options.args];
}

function isFolder(folder: string): boolean {
  try {
    return statSync(folder).isDirectory();
  } catch {
    return false;
  }
}

/** Where the program is, searched as execvp does: a name with a slash as is, others on PATH. */
function findProgram(file: string, cwd: string, searchPath = ""): string | undefined {
  if (file === "") return undefined;
  if (file.includes("/")) {
    const given = path.resolve(cwd, file);
    return isExecutableFile(given) ? given : undefined;
  }
  for (const dir of searchPath.split(path.delimiter)) {
    const candidate = path.resolve(cwd, dir, file);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function fromLaunch(launched: Launched): StartedProgram {
  return {
    pid: launched.pid,
    stdout: launched.stdout,
    stderr: launched.stderr,
    stdin: null,
    ended: launched.status.then(endingOfStatus),
    done: (outputsClosed) => launched.release(outputsClosed),
  };
}

/** A shell's exit status as Node reports an ending: above 128, the signal it stands for. */
function endingOfStatus(status: number): Ending {
  const signal = Object.entries(os.constants.signals).find(([, n]) => n === status - 128)?.[0];
  return status > 128 && signal !== undefined
    ? { code: null, signal: signal as NodeJS.Signals }
    : { code: status, signal: null };
}

function spawnFromNode(options: StartOptions): StartedProgram {
  const child: ChildProcess = spawn(options.file, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    shell: options.shell ? "/bin/sh" : false,
    detached: true, // own process group, so the whole tree can be signalled at once
    stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
  });
  const ended = new Promise<Ending>((resolve) => {
    child.on("error", (error) => resolve({ error }));
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return {
    pid: child.pid,
    stdout: child.stdout,
    stderr: child.stderr,
    stdin: child.stdin,
    ended,
    done: () => {},
  };
}
