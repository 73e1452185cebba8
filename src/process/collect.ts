import { spawn } from "node:child_process";

/** How a short program ended, and all it printed. */
export interface Collected {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when stdout was cut at {@link CollectOptions.maxStdoutBytes} and the program ended. */
  truncated?: true;
}

/** {@link Collected} with stdout as git printed it, bytes not decoded (blobs, binary files). */
export interface CollectedBytes extends Omit<Collected, "stdout"> {
  stdout: Buffer;
}

/** Options of {@link runCollecting}. */
export interface CollectOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  detached?: boolean;
  /**
   * Keeps only this many bytes of stdout and ends the program once it printed more (a patch of
   * hundreds of MB is more than a string can hold); the result says it was `truncated`.
   */
  maxStdoutBytes?: number;
}

/**
 * Runs a short program (a git command, a shell script) with its stdout and stderr collected
 * whole, and `input`, when given, written to its stdin. Resolves however it ended; rejects only
 * when it could not start, with Node's error (also one Node throws, such as a NUL in an argument).
 */
export function runCollecting(
  file: string,
  argv: readonly string[],
  options: CollectOptions = {},
): Promise<Collected> {
  return collect(file, argv, options, (stdout) => stdout.toString("utf8"));
}

/** {@link runCollecting}, stdout kept as bytes. */
export function runCollectingBytes(
  file: string,
  argv: readonly string[],
  options: CollectOptions = {},
): Promise<CollectedBytes> {
  return collect(file, argv, options, (stdout) => stdout);
}

function collect<T extends string | Buffer>(
  file: string,
  argv: readonly string[],
  options: CollectOptions,
  output: (stdout: Buffer) => T,
): Promise<Omit<Collected, "stdout"> & { stdout: T }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, {
      cwd: options.cwd,
      env: options.env,
      detached: options.detached ?? false,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (options.input !== undefined) {
      // A program that exits before reading everything closes the pipe; its exit code tells why.
      child.stdin?.on("error", () => {});
      child.stdin?.end(options.input);
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const limit = options.maxStdoutBytes ?? Number.POSITIVE_INFINITY;
    let kept = 0;
    let truncated = false;
    child.stdout?.on("data", (chunk: Buffer) => {
      if (truncated) return;
      if (kept + chunk.length <= limit) {
        stdout.push(chunk);
        kept += chunk.length;
        return;
      }
      stdout.push(chunk.subarray(0, limit - kept));
      kept = limit;
      truncated = true;
      // The rest is not wanted: the program ends now instead of printing it into a full pipe.
      child.stdout?.destroy();
      child.kill("SIGTERM");
    });
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.once("error", reject);
    child.once("close", (code, signal) =>
      resolve({
        code,
        signal,
        stdout: output(Buffer.concat(stdout)),
        stderr: Buffer.concat(stderr).toString("utf8"),
        ...(truncated ? { truncated: true as const } : {}),
      }),
    );
  });
}
