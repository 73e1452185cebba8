/**
 * The output of `git status --porcelain=v1 -z`, parsed once. Each entry is `XY path`; a rename
 * or copy (`R`/`C` in either column) is followed by a separate field holding its source path,
 * which is not an entry of its own. With `--branch` the first field is the `## …` header.
 */

/** One changed path: its two-letter status code and, for a rename or copy, where it came from. */
export interface StatusEntry {
  code: string;
  path: string;
  from?: string;
}

/** Parsed `git status --porcelain=v1 -z` output: the `--branch` header, if any, and the entries. */
export interface ParsedStatus {
  branch: string | undefined;
  entries: StatusEntry[];
}

/** Parses `git status --porcelain=v1 -z [--branch]` output. */
export function parseStatus(stdout: string): ParsedStatus {
  const fields = stdout.split("\0");
  const entries: StatusEntry[] = [];
  let branch: string | undefined;
  for (let index = 0; index < fields.length; index++) {
    const field = fields[index] as string;
    if (field.startsWith("## ")) {
      branch = field.slice(3);
      continue;
    }
    if (field.length < 4) continue;
    const code = field.slice(0, 2);
    const entry: StatusEntry = { code, path: field.slice(3) };
    if (code.includes("R") || code.includes("C")) {
      index++;
      entry.from = fields[index];
    }
    entries.push(entry);
  }
  return { branch, entries };
}

/** The paths of `git status --porcelain=v1 -z` output (a rename counts once, by its new path). */
export function statusPaths(stdout: string): string[] {
  return parseStatus(stdout).entries.map((entry) => entry.path);
}

/** Whether git path `file` (relative, `/`-separated) is one of `kept` or lies in one of them. */
export function isKeptPath(file: string, kept: readonly string[]): boolean {
  return kept.some((entry) => file === entry || file.startsWith(`${entry}/`));
}
