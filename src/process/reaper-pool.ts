import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, constants, existsSync, openSync, writeSync } from "node:fs";
import { Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { removeFile } from "../fs/remove-file.js";
import {
  type Ending,
  type Launched,
  type LaunchRequest,
  type ProgramOutput,
  spawnDirectly,
} from "./launched.js";
import { inPrivateFolder } from "./private-folder.js";
import { REAPER_SCRIPT, reaperProgram, reaperStatus, reportedStartError } from "./reaper.js";

/**
 * Long-lived reapers (see reaper.ts), one per program running at once: a program is handed to an
 * idle one, or to a new one when none is idle. Each has three files in conductor's private
 * folder: two named pipes it makes, the program's stdout and stderr, whose reading ends conductor
 * opens anew for each program (a program's output ends when the last process holding it does,
 * as with a pipe of its own), and the stdin file conductor writes anew for each program that
 * reads one and removes once the program has it open: another program (the reaper's next, or one
 * running beside it) finds no earlier program's stdin there. A reaper takes its next program only
 * once the last one's output has ended: what a program wrote and conductor had not read would be
 * read as the next one's. One whose output was cut off (conductor stopped waiting for a leftover
 * holding it) is ended instead. One that finds what its programs inherit from it changed (its
 * limits, its niceness, its CPUs: any process of the user may change them in another) refuses
 * the next program and exits, and the program goes to a new reaper (see reaper.ts).
 *
 * A process of the user can open the pipes by their names, as it can open another process's
 * pipes through /proc/<pid>/fd: the private folder keeps them from other users, and from what an
 * agent's sandbox lets it write, not from what it lets it read.
 */

interface Reaper {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Path of the stdin file, there only while a program that reads one is being started. */
  stdin: string;
  /** Whether it said it was ready, and whether it is a subreaper (`r1`) or not (`r0`). */
  ready: boolean;
  reaping: boolean;
  /** The program it runs, or waits to be ready for. */
  step: Step | undefined;
  partial: string;
}

/** What a program's launch does with the reaper's answers. */
interface Step {
  /** The reaper is ready for the request. */
  begin(reaper: Reaper): void;
  answer(reaper: Reaper, line: string): void;
  /** The reaper ended (`exitCode` when it exited, `signal` when it was killed). */
  died(exitCode: number | null, signal: NodeJS.Signals | null): void;
}

const idle: Reaper[] = [];
const all = new Set<Reaper>();
/** Set when a reaper could not start or make its pipes: no reaper is tried again. */
let unusable = false;
let exitHooked = false;

/**
 * Starts the program under a reaper, or returns undefined where none can run (not Linux, no
 * Perl, no private folder, a NUL byte Node would refuse, a program that would not be found:
 * started directly, it fails the way it always has, with Node's own error).
 */
export function startReaped(request: LaunchRequest): Launched | undefined {
  const perl = unusable ? undefined : reaperProgram(request);
  if (perl === undefined) return undefined;
  const program = request.shell
    ? ["/bin/sh", "-c", [request.file, ...request.args].join(" ")]
    : [request.file, ...request.args];
  const body = requestBody(request, program);
  if (body === undefined) return undefined;
  let reaper: Reaper;
  try {
    reaper = idle.pop() ?? startReaper(perl);
  } catch {
    return undefined;
  }
  return launch(reaper, { request, body, file: program[0] ?? request.file, perl });
}

/** One program's launch: the request, its encoded form, the program file and the Perl to use. */
interface Launch {
  request: LaunchRequest;
  body: Buffer;
  file: string;
  perl: string;
}

/**
 * The request's fields, each ended by a NUL byte (see reaper.ts); undefined when a value holds
 * one (Node's spawn refuses those with its own error).
 */
function requestBody(request: LaunchRequest, program: readonly string[]): Buffer | undefined {
  const fields = [
    String(Math.max(0, Math.round(request.graceMs))),
    request.cwd,
    request.stdinText === undefined ? "" : "1",
    String(program.length),
    ...program,
  ];
  for (const [name, value] of Object.entries(request.env)) {
    if (value !== undefined) fields.push(`${name}=${value}`);
  }
  for (const field of fields) if (field.includes("\0")) return undefined;
  const text = `${fields.join("\0")}\0`;
  return Buffer.from(`${Buffer.byteLength(text)}\n${text}`);
}

function launch(reaper: Reaper, how: Launch, retried = false): Launched {
  const { request, body, file } = how;
  let resolveOutput!: (output: ProgramOutput | undefined) => void;
  let resolvePid!: (pid: number | undefined) => void;
  let resolveEnded!: (ending: Ending) => void;
  const output = new Promise<ProgramOutput | undefined>((resolve) => {
    resolveOutput = resolve;
  });
  const pid = new Promise<number | undefined>((resolve) => {
    resolvePid = resolve;
  });
  const ended = new Promise<Ending>((resolve) => {
    resolveEnded = resolve;
  });
  let streams: ProgramOutput | undefined;
  let started = false;
  let finished = false;
  /** Streams of this program not yet ended; the reaper is free once none is and it reported. */
  let open = 0;
  let cut = false;
  /** The reaper answered that the program could not start: nothing was written to its outputs. */
  let unstarted = false;
  /** Nothing was started to write to the outputs or end them: they are closed here. */
  const closeUnstarted = () => {
    unstarted = true;
    streams?.stdout.destroy();
    streams?.stderr.destroy();
  };
  const release = () => {
    if (!finished || open > 0 || reaper.step !== step) return;
    reaper.step = undefined;
    if (cut) retire(reaper);
    else makeIdle(reaper);
  };
  // Where this reaper could not take the program after all, a new one is tried once (the pipes
  // of the idle ones went with a removed folder, or the reaper was changed), else it is started
  // from Node, as it would be without a reaper: its promises settle as that launch's do.
  let delegate: Launched | undefined;
  const elsewhere = (fresh: boolean) => {
    let launched: Launched | undefined;
    if (fresh && !retried) {
      try {
        launched = launch(startReaper(how.perl), how, true);
      } catch {
        // no new reaper either
      }
    }
    launched ??= spawnDirectly(request);
    delegate = launched;
    void launched.output.then(resolveOutput);
    void launched.pid.then(resolvePid);
    void launched.ended.then(resolveEnded);
  };
  const step: Step = {
    begin(ready) {
      let opened: ProgramOutput;
      let stdout: Socket | undefined;
      try {
        if (request.stdinText !== undefined) writeStdin(ready.stdin, request.stdinText);
        stdout = openOutput(ready.stdout);
        opened = { stdout, stderr: openOutput(ready.stderr) };
      } catch {
        // The one opened, if any, is closed: this reaper is done with, its pipe too.
        stdout?.destroy();
        ready.step = undefined;
        retire(ready);
        elsewhere(true);
        return;
      }
      streams = opened;
      for (const stream of [opened.stdout, opened.stderr]) {
        open++;
        // Its end: every byte written was read (the step reading it may go on to the next program
        // at once, before the stream is closed); a close before it: the output was cut off.
        let whole = false;
        stream.once("end", () => {
          whole = true;
          open--;
          release();
        });
        stream.once("close", () => {
          if (whole) return;
          open--;
          if (!unstarted) cut = true;
          release();
        });
      }
      // Handed on once the program runs: a reaper that refuses it ('c') hands it to another.
      setRef(ready, true);
      ready.child.stdin?.write(body);
    },
    answer(_from, line) {
      const value = Number(line.slice(1));
      // The program has its stdin open now (or never will): the file goes, and its text with it.
      const answered = line.startsWith("p") || line.startsWith("e") || line === "c";
      if (answered && request.stdinText !== undefined) removeFile(reaper.stdin);
      if (line === "c") {
        // Something changed what the reaper's programs inherit from it (see reaper.ts): it
        // started nothing and exits; the program goes to a new reaper.
        reaper.step = undefined;
        closeUnstarted();
        retire(reaper);
        elsewhere(true);
        return;
      }
      resolveOutput(streams);
      if (line.startsWith("p")) {
        started = true;
        resolvePid(value);
      } else if (line.startsWith("e")) {
        closeUnstarted();
        finished = true;
        resolvePid(undefined);
        resolveEnded({ error: reportedStartError(value, file) });
        release();
      } else if (line.startsWith("x")) {
        finished = true;
        const signal = value & 0x7f;
        resolveEnded({
          code: signal === 0 ? value >> 8 : null,
          signal: signal === 0 ? null : signalName(signal),
          reaped: reaper.reaping,
        });
        release();
      }
    },
    died(exitCode, signal) {
      if (streams === undefined) {
        // It never took the request. One that could not make its pipes because its folder went
        // away (a cleaner of old files) hands the program to a new reaper in a new folder; else
        // the program is started from Node, and one that exited marks reapers as unusable here.
        const folderGone = exitCode !== null && !existsSync(path.dirname(reaper.stdin));
        if (exitCode !== null && !folderGone) unusable = true;
        elsewhere(folderGone);
        return;
      }
      finished = true;
      resolveOutput(streams);
      // A program never started holds no output open, nor can the reaper close it any more.
      if (!started) {
        streams.stdout.destroy();
        streams.stderr.destroy();
      }
      resolvePid(undefined);
      resolveEnded({ code: exitCode, signal, reaped: false });
    },
  };
  reaper.step = step;
  if (reaper.ready) step.begin(reaper);
  return {
    output,
    pid,
    ended,
    abandon() {
      if (delegate !== undefined) delegate.abandon();
      else if (!finished) reaper.child.kill("SIGKILL");
    },
  };
}

/** A named pipe's reading end, opened without waiting for a writer, as a stream. */
function openOutput(fifo: string): Socket {
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    return new Socket({ fd, readable: true, writable: false });
  } catch (error) {
    closeSync(fd); // not a pipe (a file put in its place)
    throw error;
  }
}

/**
 * Writes a program's stdin to a new file at `file`, made exclusively (whatever was there is
 * removed, never followed or written through): a file kept and rewritten in place would hand the
 * text to whoever reads the path, or holds the file open, after the program.
 */
function writeStdin(file: string, text: string): void {
  removeFile(file);
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
  const fd = openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    const bytes = Buffer.from(text);
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written);
  } finally {
    closeSync(fd);
  }
}

/**
 * The name of the signal that ended a program. Node names none of the real-time ones (34 to 64
 * on Linux), which a program may die of as of any other: it gets its number, never nothing, which
 * would make a killed program look as if it had exited.
 */
function signalName(number: number): string {
  for (const [name, value] of Object.entries(os.constants.signals)) {
    if (value === number) return name;
  }
  return `signal ${number}`;
}

/**
 * A new reaper's base path and its stdin file, made exclusively under a random name (nothing that
 * was there is followed or reused); once more in a new folder when the folder went away (a
 * cleaner of old files removed it).
 */
function makeStdinFile(): { base: string; stdin: string } {
  return inPrivateFolder((folder) => {
    const base = path.join(folder, `reaper-${randomBytes(9).toString("hex")}`);
    const stdin = `${base}.in`;
    const { O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
    closeSync(openSync(stdin, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600));
    return { base, stdin };
  });
}

function startReaper(perl: string): Reaper {
  const { base, stdin } = makeStdinFile();
  let child: ChildProcess;
  try {
    child = spawn(perl, ["-e", REAPER_SCRIPT, `${base}.out`, `${base}.err`, stdin], {
      env: { LC_ALL: "C" },
      detached: true, // out of the terminal's Ctrl-C: conductor decides what stops
      stdio: ["pipe", "pipe", "ignore"],
    });
  } catch (error) {
    removeFile(stdin);
    throw error;
  }
  const reaper: Reaper = {
    child,
    stdout: `${base}.out`,
    stderr: `${base}.err`,
    stdin,
    ready: false,
    reaping: false,
    step: undefined,
    partial: "",
  };
  all.add(reaper);
  if (!exitHooked) {
    exitHooked = true;
    process.on("beforeExit", endIdleReapers);
  }
  child.stdin?.on("error", () => {}); // a reaper that died is reported by its exit
  let over = false;
  const died = (exitCode: number | null, signal: NodeJS.Signals | null) => {
    if (over) return;
    over = true;
    all.delete(reaper);
    const at = idle.indexOf(reaper);
    if (at !== -1) idle.splice(at, 1);
    // Never made, or removed with the folder, when not there.
    for (const file of [reaper.stdout, reaper.stderr, reaper.stdin]) removeFile(file);
    const step = reaper.step;
    reaper.step = undefined;
    step?.died(exitCode, signal);
  };
  child.once("error", () => {
    unusable = true;
    died(null, null);
  });
  child.once("exit", died);
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    const lines = (reaper.partial + chunk).split("\n");
    reaper.partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line.startsWith("r")) {
        reaper.ready = true;
        reaper.reaping = line === "r1";
        reaper.step?.begin(reaper);
      } else reaper.step?.answer(reaper, line);
    }
  });
  return reaper;
}

function makeIdle(reaper: Reaper): void {
  if (!all.has(reaper)) return;
  setRef(reaper, false);
  idle.push(reaper);
}

/** Ends a reaper: it exits at the end of its input (after its program, if one runs). */
function retire(reaper: Reaper): void {
  const at = idle.indexOf(reaper);
  if (at !== -1) idle.splice(at, 1);
  // Ref'd until it exits, so that its CPU is counted as conductor's children's.
  reaper.child.ref();
  // Closed now, not at the next turn of the event loop as end() would: what follows may not
  // give the loop a turn (the reports are written synchronously).
  reaper.child.stdin?.destroy();
}

/** Keeps the event loop alive while a reaper runs a program, and only then. */
function setRef(reaper: Reaper, on: boolean): void {
  for (const handle of [reaper.child, reaper.child.stdin, reaper.child.stdout]) {
    const refable = handle as Pick<Socket, "ref" | "unref"> | null;
    if (on) refable?.ref();
    else refable?.unref();
  }
}

/**
 * Starts reapers until `count` are alive, ahead of the programs they will start: Perl starts
 * while conductor prepares the first worktrees, not when the first agents are due.
 */
export function prestartReapers(count: number): void {
  const found = reaperStatus();
  if (!found.running || unusable) return;
  while (all.size < count) {
    try {
      makeIdle(startReaper(found.perl));
    } catch {
      return;
    }
  }
}

/**
 * Ends the reapers that wait for work (the next program starts a new one): at conductor's natural
 * exit, and where a caller knows that no programs follow for a while (a run's workspaces are done).
 */
export function endIdleReapers(): void {
  for (const reaper of idle.splice(0)) retire(reaper);
}

/**
 * Ends every reaper once its program has ended, for an immediate exit: signals do not end them
 * (they ignore all they can), the end of their input does.
 */
export function endAllReapers(): void {
  for (const reaper of all) retire(reaper);
  idle.length = 0;
}

/** For a test: the reapers alive now. */
export function reaperCount(): number {
  return all.size;
}
