import path from "node:path";
import type { ProcessOptions } from "../../src/process/run.js";
import { Redactor } from "../../src/secrets/redact.js";

/**
 * What runProcess needs to run `command` with /bin/sh in `dir`, with $OUT naming that folder and
 * its log at `dir`/step.log; `overrides` replace any of it.
 */
export function shellStep(
  dir: string,
  command: string,
  overrides: Partial<ProcessOptions> = {},
): ProcessOptions {
  return {
    file: command,
    shell: true,
    cwd: dir,
    env: { OUT: dir },
    signal: new AbortController().signal,
    timeoutMs: 30_000,
    logFile: path.join(dir, "step.log"),
    redactor: new Redactor([]),
    graceMs: 500,
    ...overrides,
  };
}
