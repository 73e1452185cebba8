import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * Long-lived `/bin/sh` processes that run conductor's short scripts: the git sequences on the path
 * of every workspace. Every spawn from Node forks the whole Node process (measured: 2.6 ms of its
 * CPU per spawn at 64 workspaces, most of conductor's own CPU per workspace); a shell holds a few
 * hundred kilobytes, so the forks it makes instead cost almost nothing.
 *
 * A script runs in a subshell of an idle shell of the pool; scripts that run at the same time get
 * a shell each, kept for the next ones. The request is a file the subshell sources: `cd` to the
 * folder, `set --` of the arguments (single-quoted, so they never become code), then the script.
 * Its stdout and stderr go to files in a private folder, read when its `<id> <exit code>` line
 * comes back. The shells run in a session of their own (like a background job they never see the
 * terminal's Ctrl-C: conductor decides what stops, and a git command is never cut in half), and
 * end when conductor closes their input: at its natural exit, after waiting for them so their CPU
 * is counted as its children's, or when it dies.
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

/** Each shell's loop: `$1` is the private folder; one request id per line. */
const LOOP = `while IFS= read -r id; do
  ( . "$1/$id.sh" ) >"$1/$id.out" 2>"$1/$id.err" </dev/null
  echo "$id $?"
done`;

interface Pending {
  id: number;
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
let nextId = 1;

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
  const environment = JSON.stringify(env ?? process.env);
  const shell = takeIdle(environment) ?? startShell(env, environment);
  const id = nextId++;
  const dir = privateFolder();
  try {
    writeFileSync(path.join(dir, `${id}.sh`), requestScript(cwd, script, args));
  } catch (error) {
    idle.push(shell);
    return Promise.reject(error);
  }
  return new Promise<ShellResult>((resolve, reject) => {
    shell.running = { id, resolve, reject };
    setRef(shell, true);
    shell.child.stdin?.write(`${id}\n`);
  });
}

/** The sourced request: arguments quoted for the shell, so no value is ever read as code. */
function requestScript(cwd: string, script: string, args: readonly string[]): string {
  return `cd -- ${quote(cwd)} || exit\nset -- ${args.map(quote).join(" ")}\n${script}\n`;
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

function privateFolder(): string {
  if (folder === undefined) {
    const made = mkdtempSync(path.join(os.tmpdir(), "conductor-sh-"));
    folder = made;
    process.once("exit", () => rmSync(made, { recursive: true, force: true }));
    process.on("beforeExit", () => {
      for (const shell of idle.splice(0)) {
        shell.child.ref();
        shell.child.stdin?.end();
      }
    });
  }
  return folder;
}

function startShell(env: NodeJS.ProcessEnv | undefined, environment: string): Shell {
  const child = spawn("/bin/sh", ["-c", LOOP, "sh", privateFolder()], {
    env,
    detached: true,
    stdio: ["pipe", "pipe", "ignore"],
  });
  const shell: Shell = { child, environment, running: undefined };
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
  const [id, code] = line.split(" ").map(Number);
  const pending = shell.running;
  if (pending === undefined || id !== pending.id || code === undefined || Number.isNaN(code)) {
    return;
  }
  shell.running = undefined;
  setRef(shell, false);
  idle.push(shell);
  const base = path.join(privateFolder(), String(id));
  try {
    pending.resolve({
      exitCode: code,
      stdout: readFileSync(`${base}.out`, "utf8"),
      stderr: readFileSync(`${base}.err`, "utf8"),
    });
  } catch (error) {
    pending.reject(error as Error);
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
