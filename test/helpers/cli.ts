import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { gitEnv } from "./git-repo.js";

/** The root of this package. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The bundled CLI the tests run, as `conductor` is installed (built by the global setup). */
export const CLI = path.join(ROOT, "dist", "bin", "conductor.js");

/** bin/conductor, the command npm links: a shell launcher of {@link CLI}. */
export const LAUNCHER = path.join(ROOT, "bin", "conductor");

/** Result of one CLI invocation. */
export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved, for assertion messages. */
  all: string;
}

/** Options for running the CLI. */
export interface CliOptions {
  cwd: string;
  /** Private home (workspaces, port registry); defaults to the real one — tests should pass it. */
  home?: string;
  /** `undefined` takes a variable of the helper's git environment away. */
  env?: Record<string, string | undefined>;
}

/** Runs `conductor ...args` as a real process and returns its exit code and output. */
export async function conductor(args: readonly string[], options: CliOptions): Promise<CliResult> {
  const result = await startConductor(args, options);
  return {
    exitCode: result.exitCode ?? -1,
    stdout: result.stdout as string,
    stderr: result.stderr as string,
    all: result.all as string,
  };
}

/** Starts `conductor ...args` without waiting (for signal tests). */
export function startConductor(
  args: readonly string[],
  options: CliOptions,
): ResultPromise<{ reject: false; all: true }> {
  return execa("node", [CLI, ...args], {
    cwd: options.cwd,
    reject: false,
    all: true,
    env: { ...(options.home ? gitEnv(options.home) : {}), CI: "1", NO_COLOR: "1", ...options.env },
  });
}
