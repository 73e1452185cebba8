/** What one check of preflight or `conductor doctor` found. */
export interface CheckResult {
  /** What was checked, e.g. `codex login`, `workspaces folder`. */
  check: string;
  /**
   * `ok`; `info` (worth knowing, nothing to do); `warn` (works, but something is off);
   * `fail` (conductor cannot work this way).
   */
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** A command or change that fixes it; empty when nothing needs doing. */
  fix: string;
}

/** How a check came out, from good to blocking. */
export type CheckStatus = "ok" | "info" | "warn" | "fail";

/** A check result, with an empty fix unless one is given. */
export function result(check: string, status: CheckStatus, detail: string, fix = ""): CheckResult {
  return { check, status, detail, fix };
}
