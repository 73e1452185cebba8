import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import type { Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { processExists } from "./exists.js";

/**
 * Long-lived `/bin/sh` processes that run conductor's short scripts: the git sequences on the path
 * of every workspace. Every spawn from Node forks the whole Node process (measured: 0.45 ms user
 * and 0.26 ms system CPU per spawn from a 90 MB Node 20 process, and its page faults after), four
 * times per workspace; a shell holds a few hundred kilobytes, so the forks it makes instead cost
 * almost nothing.
 *
 * A script runs in a subshell of an idle shell of the pool; scripts that run at the same time get
 * a shell each, kept for the next ones. The request is a file the subshell sources: `cd` to the
 * folder, `set --` of the arguments (single-quoted, so they never become code), then the script.
 * Its stdout and stderr go to files beside it, read when its `<exit code> <path>` line comes back.
 *
 * Those files are in a private folder under `~/.conductor/tmp/`, not in /tmp: an agent's sandbox
 * (Codex's `workspace-write`) may write to /tmp, and a request file it could replace or an output
 * it could rewrite would run its code outside the sandbox or falsify another workspace's checks.
 * Names are random, requests are created exclusively, and outputs are read only when they are
 * regular files (a FIFO would block conductor). Folders left by a conductor that was killed are
 * removed by the next one.
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
 * Each shell's loop. A request is one line: the path of its files without their endings; the
 * answer is the exit code, a space and that path.
 */
const LOOP = `while IFS= read -r base; do
  ( . "$base.sh" ) >"$base.out" 2>"$base.err" </dev/null
  echo "$? $base"
done`;

interface Pending {
  /** The request's files, without their endings. */
  base: string;
  resolve(result: ShellResult): void;
  reject(error: Error): void;
}

interface Shell {
  child: ChildProcess;
  /** The environment it was started with, as text: a shell serves only requests of the same. */
  environment: string;
  running: Pending | undefined;
}

const idle: Shell[] = [];
let folder: string | undefined;

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
  let base: string;
  try {
    base = writeRequest(requestScript(cwd, script, args));
  } catch (error) {
    return Promise.reject(new ShellPoolError(`could not hand the script to a shell: ${error}`));
  }
  const environment = JSON.stringify(env ?? process.env);
  const shell = takeIdle(environment) ?? startShell(env, environment);
  return new Promise<ShellResult>((resolve, reject) => {
    shell.running = { base, resolve, reject };
    setRef(shell, true);
    shell.child.stdin?.write(`${base}\n`);
  });
}

/**
 * Writes a request file under a random name, made anew (`wx`: nothing that was there is followed
 * or reused), and returns its path without `.sh`. Once more in a new folder when the folder went
 * away (a cleaner of old files, say).
 */
function writeRequest(text: string): string {
  const write = () => {
    const base = path.join(privateFolder(), randomBytes(9).toString("hex"));
    writeFileSync(`${base}.sh`, text, { flag: "wx", mode: 0o600 });
    return base;
  };
  try {
    return write();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    folder = undefined;
    return write();
  }
}

/** The sourced request: arguments quoted for the shell, so no value is ever read as code. */
function requestScript(cwd: string, script: string, args: readonly string[]): string {
  return `cd -P -- ${quote(cwd)} || exit\nset -- ${args.map(quote).join(" ")}\n${script}\n`;
}

function quote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function takeIdle(environment: string): Shell | undefined {
  // Shells of another environment (a test or caller changed process.env) are of no more use.
  for (const stale of idle.filter((shell) => shell.environment !== environment)) {
    idle.splice(idle.indexOf(stale), 1);
    stale.child.stdin?.end();
  }
  return idle.pop();
}

let exitHooked = false;

function privateFolder(): string {
  if (folder !== undefined) return folder;
  const parent = foldersParent();
  const made = mkdtempSync(path.join(parent.path, `shells-${process.pid}-`));
  folder = made;
  process.once("exit", () => {
    rmSync(made, { recursive: true, force: true });
    // `~/.conductor/tmp` exists only for these folders, and an empty `~/.conductor` holds nothing:
    // whichever conductor leaves last removes them, so a command that only reads (plan,
    // validate) leaves the home folder as it was. A folder in use is not empty and stays.
    if (parent.inHome) {
      for (const dir of [parent.path, path.dirname(parent.path)]) {
        try {
          rmdirSync(dir);
        } catch {
          break;
        }
      }
    }
  });
  if (!exitHooked) {
    exitHooked = true;
    process.on("beforeExit", () => {
      for (const shell of idle.splice(0)) {
        shell.child.ref();
        shell.child.stdin?.end();
      }
    });
  }
  return made;
}

/**
 * `~/.conductor/tmp`, cleared of abandoned folders; the system's temporary folder if it cannot be
 * made.
 */
function foldersParent(): { path: string; inHome: boolean } {
  const parent = path.join(os.homedir(), ".conductor", "tmp");
  try {
    mkdirSync(parent, { recursive: true, mode: 0o700 });
    removeAbandoned(parent);
    return { path: parent, inHome: true };
  } catch {
    return { path: os.tmpdir(), inHome: false };
  }
}

/** Removes the folders of conductors that are gone (killed before they could clean up). */
function removeAbandoned(parent: string): void {
  for (const name of readdirSync(parent)) {
    const pid = Number(/^shells-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || processExists(pid)) continue;
    rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

function startShell(env: NodeJS.ProcessEnv | undefined, environment: string): Shell {
  const child = spawn("/bin/sh", ["-c", LOOP], {
    env,
    detached: true,
    stdio: ["pipe", "pipe", "ignore"],
  });
  const shell: Shell = { child, environment, running: undefined };
  // Ref'd only while it runs a script (see setRef): idle shells never keep conductor alive.
  setRef(shell, false);
  const ended = (why: string) => {
    const at = idle.indexOf(shell);
    if (at !== -1) idle.splice(at, 1);
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
 * Settles the request whose `<id> <exit code>` line came and puts the shell back in the pool. Its
 * files are read synchronously: small, just written, in the page cache; an asynchronous read
 * would take several trips through the thread pool for each.
 */
function finished(shell: Shell, line: string): void {
  const space = line.indexOf(" ");
  const code = Number(line.slice(0, space));
  const pending = shell.running;
  if (pending === undefined || space < 1 || line.slice(space + 1) !== pending.base) return;
  if (!Number.isInteger(code)) return;
  shell.running = undefined;
  setRef(shell, false);
  idle.push(shell);
  const { base } = pending;
  try {
    pending.resolve({
      exitCode: code,
      stdout: readOutput(`${base}.out`),
      stderr: readOutput(`${base}.err`),
    });
  } catch (error) {
    pending.reject(new ShellPoolError(`could not read what the script printed: ${error}`));
  } finally {
    for (const file of [`${base}.sh`, `${base}.out`, `${base}.err`]) {
      try {
        unlinkSync(file);
      } catch {
        // never made: the shell could not open it, which the read above reported
      }
    }
  }
}

/** A script's output file: opened without following a link or blocking, read if regular. */
function readOutput(file: string): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${file} is not a regular file`);
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}
