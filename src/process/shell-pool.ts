import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import type { Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { removeFile } from "../fs/remove-file.js";
import { type Collected, runCollecting } from "./collect.js";
import { inPrivateFolder, privateFolder, privateFolderGone } from "./private-folder.js";
import { ownEnvironment, ownEnvironmentText } from "./settled-environment.js";

/**
 * Long-lived `/bin/sh` processes that run conductor's short scripts: the git sequences on the path
 * of every workspace. Every spawn from Node forks the whole Node process (measured: 0.45 ms user
 * and 0.26 ms system CPU per spawn from a 90 MB Node 20 process, and its page faults after), four
 * times per workspace; a shell holds a few hundred kilobytes, so the forks it makes instead cost
 * almost nothing.
 *
 * A script runs in a subshell of an idle shell of the pool; scripts that run at the same time get
 * a shell each, kept for the next ones. Each shell has three files, made once with it and used
 * for every script it runs, because making a file is what costs: on ext4 without a journal every
 * new inode is checked against the recently deleted ones (measured: 0.3 ms a file in a run that
 * had just removed 64 worktrees, and a third of conductor's file-system time):
 * - the request, a file the subshell sources: `cd` to the folder, `set --` of the arguments
 *   (single-quoted, so they never become code), then the script. Conductor rewrites it in place
 *   for each script, through the descriptor it made it with;
 * - its stdout and its stderr, files without a name (removed as soon as made) that the shell got
 *   as descriptors 3 and 4, opened for appending: conductor reads what each script added after
 *   what it read before, and empties a file only once it holds a megabyte (see takeOutput).
 *   Nothing finds them by name. Git runs hooks with their stdout on stderr, so a hook that left
 *   a process behind (a `post-checkout` of the user's, the only hook a pool script runs) can at
 *   worst add to a later script's stderr, never to the stdout conductor parses.
 *
 * The request is in a private folder under `~/.conductor/tmp/`, never in /tmp: an agent's sandbox
 * (Codex's `workspace-write`) may write to /tmp, and a request it could change would run its code
 * outside the sandbox. Where that folder cannot be made, each script gets a shell of its own
 * instead. The request's name is random and it is made exclusively (nothing that was there is
 * followed or reused). Folders left by a conductor that was killed are removed by the next one.
 *
 * The shells run in a session of their own (like a background job they never see the terminal's
 * Ctrl-C: conductor decides what stops, and a git command is never cut in half; nor can git ask
 * anything on `/dev/tty`, which conductor's scripted git never should), and end when conductor
 * closes their input: at its natural exit, after waiting for them so their CPU is counted as its
 * children's, or when it dies.
 */

/** How a script ended: its exit code (128 + n when killed by signal n) and what it printed. */
export interface ShellResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A shell that could not run a script at all (it could not start, or it died). */
export class ShellPoolError extends Error {
  override name = "ShellPoolError";
}

/**
 * Each shell's loop; `$1` is its request file. A request is one line, its number; the answer is
 * the exit code, a space and that number.
 */
const LOOP = `while IFS= read -r id; do
  ( . "$1" ) >&3 2>&4 3>&- 4>&- </dev/null
  echo "$? $id"
done`;

interface Pending {
  id: number;
  resolve(result: ShellResult): void;
  reject(error: Error): void;
}

/** A shell's files: the request by path and descriptor, its outputs by descriptor only. */
interface ShellFiles {
  request: string;
  requestFd: number;
  /** How long the request file is: it is overwritten, never cut (see {@link writeRequest}). */
  requestLength: number;
  stdout: Output;
  stderr: Output;
}

/** An output file, and how much of it conductor has read: the next script's output follows. */
interface Output {
  fd: number;
  read: number;
}

interface Shell {
  child: ChildProcess;
  /** The environment it was started with, as text: a shell serves only requests of the same. */
  environment: string;
  files: ShellFiles;
  running: Pending | undefined;
}

const idle: Shell[] = [];
let lastId = 0;

/**
 * Runs `script` in `cwd` with `args` as `$1`…, in the environment `env` (conductor's own when
 * undefined). Resolves with the exit code whatever it is; rejects only when no shell could run it.
 */
export function runInShell(
  cwd: string,
  script: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<ShellResult> {
  // Conductor's own environment as a command found it (see settled-environment.ts).
  const own = env === undefined;
  if (own) env = ownEnvironment();
  if (privateFolder() === undefined) return runDirectly(cwd, script, args, env);
  const environment = own ? ownEnvironmentText() : JSON.stringify(env);
  let shell: Shell | undefined;
  try {
    shell = takeIdle(environment) ?? startShell(env, environment);
    writeRequest(shell.files, requestScript(cwd, script, args));
  } catch (error) {
    shell?.child.stdin?.end();
    return Promise.reject(new ShellPoolError(`could not hand the script to a shell: ${error}`));
  }
  const id = ++lastId;
  const ready = shell;
  return new Promise<ShellResult>((resolve, reject) => {
    ready.running = { id, resolve, reject };
    setRef(ready, true);
    ready.child.stdin?.write(`${id}\n`);
  });
}

/**
 * Replaces the request file's text in place: no file is made or removed per script. What is left
 * of a longer request before is overwritten with empty lines rather than cut off: ext4 flushes a
 * file cut to nothing to the disk (its `auto_da_alloc` guard for files replaced that way), which
 * measured 0.3 ms a request. Only a long tail (a request far longer than the usual) is cut.
 */
function writeRequest(files: ShellFiles, text: string): void {
  const length = Buffer.byteLength(text);
  const tail = Math.max(0, files.requestLength - length);
  const bytes = Buffer.alloc(length + (tail > MAX_PADDING ? 0 : tail), "\n");
  bytes.write(text);
  if (tail > MAX_PADDING) ftruncateSync(files.requestFd, length);
  let written = 0;
  while (written < bytes.length)
    written += writeSync(files.requestFd, bytes, written, bytes.length - written, written);
  files.requestLength = bytes.length;
}

/** Empty lines written after a request before the file is cut instead. */
const MAX_PADDING = 64 * 1024;

/** Output kept before an output file is emptied (see {@link takeOutput}). */
const MAX_OUTPUT_KEPT = 1024 * 1024;

/** The sourced request: arguments quoted for the shell, so no value is ever read as code. */
function requestScript(cwd: string, script: string, args: readonly string[]): string {
  return `cd -P -- ${quote(cwd)} || exit\nset -- ${args.map(quote).join(" ")}\n${script}\n`;
}

function quote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The most recently idle shell of `environment` whose request file is as conductor left it. A
 * shell of another environment (a test or caller changed process.env) is of no more use, nor is
 * one whose request file went away (a cleaner of old files removed the folder: it could not read
 * its next request) or changed length (someone else wrote to it; only the length conductor wrote
 * is overwritten for the next request). Such shells are ended as they come up.
 */
function takeIdle(environment: string): Shell | undefined {
  for (let shell = idle.pop(); shell !== undefined; shell = idle.pop()) {
    const request = fstatSync(shell.files.requestFd);
    const requestGone = request.nlink === 0;
    const untouched = request.size === shell.files.requestLength;
    if (shell.environment === environment && !requestGone && untouched) return shell;
    shell.child.stdin?.end();
    if (requestGone) privateFolderGone(shell.files.request);
  }
  return undefined;
}

let exitHooked = false;

/**
 * Ends the shells that wait for work (the next script starts a new one). At conductor's natural
 * exit, and earlier where a caller knows that no scripts follow for a while (a run's workspaces
 * are done and its reports remain), so that the shells end while it goes on. Each ended shell
 * holds the process until it exits, so that its CPU is counted as conductor's children's.
 */
export function endIdleShells(): void {
  for (const shell of idle.splice(0)) {
    shell.child.ref();
    // Closed now, not at the next turn of the event loop as end() would: what follows may not
    // give the loop a turn (the reports are written synchronously). An idle shell has read its
    // last request, so nothing written is lost.
    shell.child.stdin?.destroy();
  }
}

/**
 * Runs a script in a shell of its own, forked from Node, where the pool's folder cannot be made
 * (HOME unwritable). The pool does not fall back to the system's temporary folder: an agent's
 * sandbox may write there, and a request file it could change would run its code outside.
 */
async function runDirectly(
  cwd: string,
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv | undefined,
): Promise<ShellResult> {
  let result: Collected;
  try {
    result = await runCollecting("/bin/sh", ["-c", requestScript(cwd, script, args)], {
      ...(env === undefined ? {} : { env }),
      detached: true, // out of the terminal's Ctrl-C, as the pool's shells are
    });
  } catch (error) {
    throw new ShellPoolError(`could not start /bin/sh: ${(error as Error).message}`);
  }
  const { code, signal, stdout, stderr } = result;
  return {
    exitCode: code ?? 128 + (signal === null ? 0 : os.constants.signals[signal]),
    stdout,
    stderr,
  };
}

/**
 * A new shell's files, made exclusively under a random name (nothing that was there is followed
 * or reused); once more in a new folder when the folder went away.
 */
function makeFiles(): ShellFiles {
  return inPrivateFolder((home) => {
    const base = path.join(home, randomBytes(9).toString("hex"));
    const opened: number[] = [];
    const open = (file: string, extra: number) => {
      const { O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
      opened.push(openSync(file, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | extra, 0o600));
      return opened[opened.length - 1] as number;
    };
    try {
      const requestFd = open(`${base}.sh`, 0);
      const stdoutFd = open(`${base}.out`, constants.O_APPEND);
      unlinkSync(`${base}.out`);
      const stderrFd = open(`${base}.err`, constants.O_APPEND);
      unlinkSync(`${base}.err`);
      return {
        request: `${base}.sh`,
        requestFd,
        requestLength: 0,
        stdout: { fd: stdoutFd, read: 0 },
        stderr: { fd: stderrFd, read: 0 },
      };
    } catch (error) {
      for (const fd of opened) closeSync(fd);
      throw error;
    }
  });
}

function closeFiles(files: ShellFiles): void {
  for (const fd of [files.requestFd, files.stdout.fd, files.stderr.fd]) {
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
  }
  removeFile(files.request);
}

function startShell(env: NodeJS.ProcessEnv | undefined, environment: string): Shell {
  const files = makeFiles();
  if (!exitHooked) {
    exitHooked = true;
    process.on("beforeExit", endIdleShells);
  }
  let child: ChildProcess;
  try {
    child = spawn("/bin/sh", ["-c", LOOP, "sh", files.request], {
      env,
      detached: true,
      stdio: ["pipe", "pipe", "ignore", files.stdout.fd, files.stderr.fd],
    });
  } catch (error) {
    closeFiles(files); // Node throws some failures to start (a NUL byte in the environment)
    throw error;
  }
  const shell: Shell = { child, environment, files, running: undefined };
  // Ref'd only while it runs a script (see setRef): idle shells never keep conductor alive.
  setRef(shell, false);
  let over = false;
  const ended = (why: string) => {
    if (over) return;
    over = true;
    const at = idle.indexOf(shell);
    if (at !== -1) idle.splice(at, 1);
    closeFiles(files);
    const pending = shell.running;
    shell.running = undefined;
    pending?.reject(new ShellPoolError(why));
  };
  child.stdin?.on("error", () => {}); // a shell that died is reported by its exit
  child.once("error", (error) => ended(`could not start /bin/sh: ${error.message}`));
  child.once("exit", (code, signal) =>
    ended(`the shell running the script ended (${signal ?? `exit code ${code}`})`),
  );
  let partial = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) finished(shell, line);
  });
  return shell;
}

/** Keeps the event loop alive while a shell runs a script, and only then. */
function setRef(shell: Shell, on: boolean): void {
  for (const handle of [shell.child, shell.child.stdin, shell.child.stdout]) {
    const refable = handle as Pick<Socket, "ref" | "unref"> | null;
    if (on) refable?.ref();
    else refable?.unref();
  }
}

/**
 * Settles the request whose `<exit code> <id>` line came and puts the shell back in the pool.
 * Its outputs are read synchronously: small, just written, in the page cache; an asynchronous
 * read would take several trips through the thread pool for each.
 */
function finished(shell: Shell, line: string): void {
  const space = line.indexOf(" ");
  const code = Number(line.slice(0, space));
  const pending = shell.running;
  if (pending === undefined || space < 1 || line.slice(space + 1) !== String(pending.id)) return;
  if (!Number.isInteger(code)) return;
  shell.running = undefined;
  setRef(shell, false);
  try {
    pending.resolve({
      exitCode: code,
      stdout: takeOutput(shell.files.stdout),
      stderr: takeOutput(shell.files.stderr),
    });
    idle.push(shell);
  } catch (error) {
    pending.reject(new ShellPoolError(`could not read what the script printed: ${error}`));
    shell.child.stdin?.end();
  }
}

/**
 * What a script printed on one of its outputs: what the file gained since the last read, as the
 * shell appends. The file is emptied only once it holds a megabyte (cutting it costs a flush, see
 * {@link writeRequest}), between scripts, so the next one writes from its start.
 */
function takeOutput(output: Output): string {
  const size = fstatSync(output.fd).size;
  // Cut behind conductor's back (a hook reopening /proc/self/fd/2 with O_TRUNC): from the start.
  // A cut the script then writes past goes unnoticed and the start of that output is lost; only
  // stderr can be cut so, as git gives hooks stderr for their stdout.
  if (size < output.read) output.read = 0;
  const bytes = Buffer.allocUnsafe(size - output.read);
  let read = 0;
  while (read < bytes.length) {
    const got = readSync(output.fd, bytes, read, bytes.length - read, output.read + read);
    if (got === 0) break;
    read += got;
  }
  output.read += read;
  if (output.read > MAX_OUTPUT_KEPT) {
    ftruncateSync(output.fd, 0);
    output.read = 0;
  }
  return bytes.toString("utf8", 0, read);
}
