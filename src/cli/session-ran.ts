/**
 * Whether this process ran a session (a run, a resume, a follow-up) through to its reports: the
 * code such a process went through is what the run bundle's code cache should hold (see
 * code-cache.ts), rather than the start-up of a `--help` or of a config that was refused.
 */
let ran = false;

/** Records that a session reached its reports. */
export function markSessionRan(): void {
  ran = true;
}

/** Whether a session of this process reached its reports. */
export function sessionRan(): boolean {
  return ran;
}
