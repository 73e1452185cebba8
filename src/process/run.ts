import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";
import type { Redactor } from "../secrets/redact.js";
import {
  DEFAULT_GRACE_MS,
  descendantPidFloor,
  endMarkedProcesses,
  terminateGroup,
  trackGroup,
} from "./groups.js";
import { type LaunchRequest, spawnDirectly } from "./launched.js";
import { LogFile } from "./log-file.js";
import type { ProcessOutcome } from "./outcome.js";
import { startReaped } from "./reaper-pool.js";
import { ownEnvironment } from "./settled-environment.js";

/**
 * Process hygiene in one place. Every program conductor starts (scripts, agents) goes through
 * {@link runProcess}: it gets its own process group, its output streams to a log file (never
 * buffered whole), and on timeout or cancel the whole group gets SIGTERM, then SIGKILL after a
 * grace period. Whatever a program leaves behind when it exits (background children, daemons
 * that left the group with `setsid`) is ended the same way before its step ends, so no orphan
 * outlives its step.
 */

/** Longest delay a Node.js timer takes (about 24.8 days): a timeout that means "never". */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Marks every process one {@link runProcess} call starts, descendants included: they inherit it
 * even when they leave the process group (`setsid`), so they can still be found and ended.
 */
const TAG_VARIABLE = "CONDUCTOR_PROCESS_TAG";

/** Beyond its two grace periods (the program's, then its leftovers'), before a reaper is given up. */
const REAPER_SLACK_MS = 1000;

/** How long the output may stay open after the main process exited before escapees are sought. */
const OUTPUT_CLOSE_MS = 200;

/** Longest stdout line handed to a line callback; longer lines are cut (the log keeps them whole). */
const MAX_LINE_CHARS = 8 * 1024 * 1024;

/** What to run and how. */
export interface ProcessOptions {
  /** Program, or with `shell` a shell command line. */
  file: string;
  args?: readonly string[];
  /** Run `file` as a `/bin/sh -c` command line (scripts from the config). */
  shell?: boolean;
  cwd: string;
  /** Added to conductor's own environment. */
  env: Readonly<Record<string, string>>;
  signal: AbortSignal;
  timeoutMs: number;
  /** Output (stdout and stderr) is appended here, redacted. */
  logFile: string;
  redactor: Redactor;
  /** Text written to stdin, then closed; without it stdin is closed at once. */
  stdinText?: string;
  /** Receives each stdout line, redacted. */
  onStdoutLine?: (line: string) => void;
  /** Receives each stderr line, redacted (a program's own words about why it failed). */
  onStderrLine?: (line: string) => void;
  /** Called whenever the program prints anything, on stdout or stderr (idle watches). */
  onOutput?: () => void;
  graceMs?: number;
}

/** Runs a program to completion under the rules above. Never throws for the program's failures. */
export async function runProcess(options: ProcessOptions): Promise<ProcessOutcome> {
  if (options.signal.aborted) return { reason: "cancelled" };
  const log = new LogFile(options.logFile);
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;

  const tag = `${TAG_VARIABLE}=${randomUUID()}`;
  const request: LaunchRequest = {
    file: options.file,
    args: options.args ?? [],
    shell: options.shell === true,
    cwd: options.cwd,
    env: {
      ...ownEnvironment(),
      ...options.env,
      [TAG_VARIABLE]: tag.slice(TAG_VARIABLE.length + 1),
    },
    stdinText: options.stdinText,
    graceMs,
  };
  // Under a reaper where one can run: it ends what the tag cannot find (see reaper.ts).
  const launched = startReaped(request) ?? spawnDirectly(request);
  // The process group to signal: the program's own (it leads one, however it was started).
  const programGroup = launched.pid;
  const except = new Set<number>();
  void programGroup.then((group) => {
    if (group === undefined) return;
    trackGroup(group, true);
    except.add(group);
  });

  // Descendants that left the group (`setsid`) carry the tag: they are sought on cancel and
  // timeout, when the output is still open a moment after the main process exited (an escaped
  // descendant holds it, and the step would never end), and always once the program has exited.
  const spawnedAt = Date.now();
  const endEscaped = (pidsAbove?: number) =>
    endMarkedProcesses([tag], { except, graceMs, ...(pidsAbove ? { pidsAbove } : {}) });
  const endProgramGroup = () => {
    void programGroup.then((group) => {
      if (group !== undefined) void terminateGroup(group, graceMs);
    });
  };
  let stopping: "timeout" | "cancelled" | undefined;
  let abandonTimer: NodeJS.Timeout | undefined;
  const stop = (why: "timeout" | "cancelled") => {
    if (stopping) return;
    stopping = why;
    endProgramGroup();
    // A reaper ignores SIGTERM and reports once it has ended what the program left (its own
    // grace period after the program's): given up only if it has not by then (a stopped one).
    abandonTimer = setTimeout(() => launched.abandon(), 2 * graceMs + REAPER_SLACK_MS);
    void endEscaped();
  };
  // setTimeout takes at most 2^31-1 ms (about 24.8 days); longer would fire at once.
  const timer = setTimeout(() => stop("timeout"), Math.min(options.timeoutMs, MAX_TIMER_MS));
  const onAbort = () => stop("cancelled");
  options.signal.addEventListener("abort", onAbort, { once: true });
  // A cancel that came while the log folder was being made fired no event for us.
  if (options.signal.aborted) stop("cancelled");
  // When the main process exits, end what it left behind so that pipes close and nothing leaks.
  // Should something unreachable (no tag, own group) still hold the pipes, stop waiting for it.
  let outputClosed = false;
  let exitTimer: NodeJS.Timeout | undefined;
  let pipesTimer: NodeJS.Timeout | undefined;
  void launched.ended.then(() => {
    endProgramGroup();
    exitTimer = setTimeout(() => {
      if (outputClosed) return;
      void endEscaped().then(() => {
        if (outputClosed) return;
        pipesTimer = setTimeout(() => {
          void launched.output.then((output) => {
            output?.stdout.destroy();
            output?.stderr.destroy();
          });
        }, graceMs);
        pipesTimer.unref();
      });
    }, OUTPUT_CLOSE_MS);
  });

  const piped = launched.output.then((output) => {
    if (output === undefined) return;
    const onOutput = options.onOutput;
    if (onOutput) {
      output.stdout.on("data", () => onOutput());
      output.stderr.on("data", () => onOutput());
    }
    return Promise.allSettled([
      pipeToLog(output.stdout, options.redactor, log, options.onStdoutLine),
      pipeToLog(output.stderr, options.redactor, log, options.onStderrLine),
    ]).then(() => {
      outputClosed = true;
    });
  });
  const result = await launched.ended;
  await piped;
  outputClosed = true;
  clearTimeout(timer);
  clearTimeout(exitTimer);
  clearTimeout(pipesTimer);
  clearTimeout(abandonTimer);
  options.signal.removeEventListener("abort", onAbort);
  // A daemon (`setsid nohup server &`) holds no output and would outlive a successful step.
  // After a normal exit only processes started since the program can be its escapees. A reaper
  // that reported the end has ended them all already, and a program that never started left
  // nothing: no scan of every process then.
  const nothingLeft = stopping === undefined && ("error" in result || result.reaped);
  const group = await programGroup;
  const floor = group === undefined ? undefined : descendantPidFloor(group, spawnedAt);
  await Promise.all([
    group === undefined ? undefined : terminateGroup(group, graceMs),
    nothingLeft ? undefined : endEscaped(floor),
  ]);
  if (group !== undefined) trackGroup(group, false);
  await log.close();

  if (stopping === "timeout") return { reason: "timeout", timeoutMs: options.timeoutMs };
  if (stopping === "cancelled") return { reason: "cancelled" };
  if ("error" in result)
    return { reason: "spawn-error", message: startFailure(result.error, options.cwd) };
  if (result.signal) return { reason: "signal", signal: result.signal };
  if (result.code === 0) return { reason: "exited", exitCode: 0 };
  return { reason: "exit-non-zero", exitCode: result.code ?? 1 };
}

/**
 * Why a program could not start. Node reports a working folder that does not exist as the
 * program's ENOENT (`spawn codex ENOENT`), which would send the user looking for the program.
 */
function startFailure(error: Error, cwd: string): string {
  const missingFolder = (error as NodeJS.ErrnoException).code === "ENOENT" && !existsSync(cwd);
  return missingFolder ? `its working folder ${cwd} does not exist` : error.message;
}

/** Streams one output of the child, redacted, into the shared log (and to `onLine` when given). */
function pipeToLog(
  source: NodeJS.ReadableStream | null,
  redactor: Redactor,
  log: LogFile,
  onLine: ((line: string) => void) | undefined,
): Promise<void> {
  if (!source) return Promise.resolve();
  return new Promise((resolve) => {
    const redacted = source.pipe(redactor.stream());
    redacted.pipe(log, { end: false });
    if (onLine) redacted.pipe(lineSplitter(onLine));
    redacted.on("end", resolve);
    redacted.on("error", () => resolve());
    source.on("error", () => resolve());
    // A source destroyed before its end (see runProcess) ends the rest of the chain cleanly.
    source.on("close", () => {
      if (!redacted.writableEnded) redacted.end();
    });
  });
}

/** Splits a text stream into lines for a callback, cutting absurdly long lines instead of hoarding them. */
function lineSplitter(onLine: (line: string) => void): Transform {
  let partial = "";
  return new Transform({
    transform(chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback) {
      const text = partial + chunk.toString();
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      if (partial.length > MAX_LINE_CHARS) partial = partial.slice(0, MAX_LINE_CHARS);
      for (const line of lines)
        onLine(line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line);
      done();
    },
    flush(done: TransformCallback) {
      if (partial !== "") onLine(partial);
      done();
    },
  }).resume();
}
