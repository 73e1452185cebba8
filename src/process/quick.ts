/** What a short-lived program printed and how it ended. */
export interface QuickResult {
  /** Exit code; undefined when it could not start, was killed or ran out of time. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** Why it has no exit code (not found, timed out), for messages. */
  problem: string | undefined;
}

/**
 * Runs a short-lived program to ask it something (`--version`, `login status`), with stdin
 * closed and a hard time limit; the whole group is killed when the limit passes. Never throws.
 */
export async function askProgram(
  file: string,
  args: readonly string[],
  options: { env?: Readonly<Record<string, string | undefined>>; timeoutMs: number; cwd?: string },
): Promise<QuickResult> {
  // Loaded here, not at start-up: most commands never ask a program anything.
  const { execa } = await import("execa");
  const result = await execa(file, args, {
    env: options.env as Record<string, string>,
    extendEnv: false,
    cwd: options.cwd,
    stdin: "ignore",
    reject: false,
    timeout: options.timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: 1024 * 1024,
  });
  const problem = result.timedOut
    ? `gave no answer within ${options.timeoutMs} ms`
    : result.exitCode === undefined
      ? result.originalMessage || result.shortMessage || "could not start"
      : undefined;
  return {
    exitCode: result.timedOut ? undefined : result.exitCode,
    stdout: String(result.stdout ?? ""),
    stderr: String(result.stderr ?? ""),
    problem,
  };
}
