import { readFileSync, type Stats, statSync } from "node:fs";
import type { RunEvent } from "./events.js";
import { writeFileAtomic } from "./run-store.js";
import type { WorkspaceStatus } from "./types.js";

/**
 * Keeps a live run's events.jsonl as conductor wrote it. The run's folder is in the repository,
 * and an agent (or a check script running its code) with a shell can write to it: append events
 * that say a failed check passed, or take lines out. Whatever reads the run afterwards (status,
 * checks, merge, a resume) folds that file. The guard holds what the file should be: what was in
 * it when this process took the run over, and every event appended since; each verification
 * after an agent or a check compares the file with it (one `stat` while nothing else wrote) and
 * writes it back when something else changed it.
 *
 * Other conductor commands may append to a live run's record: `archive` (and `clean`) of one of
 * its finished workspaces. Such a `workspace.archived` line is taken as theirs; anything else
 * that was not appended here is not. A record removed (or emptied) is written back without
 * blaming anyone: a removal forges nothing, and the run folder may go with a cleaner of old files.
 */
export class RecordGuard {
  /** What the file should hold, whole. */
  private expected: string;
  /** The file as it stood when it last held {@link expected}. */
  private mark: FileMark | undefined;
  /** Whether something else may have written since: the next check reads the whole file. */
  private suspect = false;

  constructor(private readonly file: string) {
    this.expected = readOrEmpty(file);
    this.mark = markOf(statSync(file, { throwIfNoEntry: false }));
  }

  /** Takes note of what this process appended, with the file just before and just after. */
  appended(text: string, before: Stats, after: Stats): void {
    const asLeft =
      this.mark === undefined
        ? before.size === 0 && this.expected === "" // a new file, made by this append
        : sameMark(this.mark, markOf(before));
    if (asLeft && !this.suspect) this.mark = markOf(after);
    else this.suspect = true;
    this.expected += text;
  }

  /**
   * No problem when the file holds what it should (with the archive lines of other conductor
   * commands); otherwise writes it back as conductor wrote it (`rewritten`: a new file under its
   * name) and says what happened. `statusOf` tells which workspaces are finished, the only ones
   * an archive line may name.
   */
  check(
    runId: string,
    statusOf: (workspace: string) => WorkspaceStatus | undefined,
  ): { problem: string | undefined; rewritten: boolean } {
    let now: Stats | undefined;
    let found: string;
    try {
      now = statSync(this.file, { throwIfNoEntry: false });
      if (!this.suspect && this.mark !== undefined && sameMark(this.mark, markOf(now))) {
        return FINE;
      }
      found = now === undefined ? "" : readFileSync(this.file, "utf8");
    } catch {
      return FINE; // the run's folder replaced by a file: the next append reports it
    }
    this.suspect = false;
    const theirs = (line: string) => isArchiveLine(line, runId, statusOf);
    if (found === this.expected || holdsInOrder(found, this.expected, theirs)) {
      this.expected = found;
      this.mark = markOf(now);
      return FINE;
    }
    // Removed (a cleaner of old files, a folder deleted by hand), and made again by the appends
    // since: the events before it are written back, and nobody is blamed for a removal.
    const removed = this.expected.endsWith(found) && (found === "" || found.endsWith("\n"));
    try {
      writeFileAtomic(this.file, this.expected);
      this.mark = markOf(statSync(this.file, { throwIfNoEntry: false }));
    } catch {
      return FINE; // as above
    }
    return {
      problem: removed
        ? undefined
        : "the run's record (events.jsonl) was written to by something other than conductor; it is put back as conductor wrote it",
      rewritten: true,
    };
  }
}

const FINE = { problem: undefined, rewritten: false } as const;

/** What tells one state of a file from another without reading it. */
interface FileMark {
  ino: number;
  size: number;
  ctimeMs: number;
}

function markOf(stats: Stats | undefined): FileMark | undefined {
  return stats === undefined
    ? undefined
    : { ino: stats.ino, size: stats.size, ctimeMs: stats.ctimeMs };
}

function sameMark(a: FileMark, b: FileMark | undefined): boolean {
  return b !== undefined && a.ino === b.ino && a.size === b.size && a.ctimeMs === b.ctimeMs;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/**
 * Whether `found` is `expected` with only lines `theirs` accepts put in between its lines (whole
 * lines: an edit inside one of conductor's lines is not that line).
 */
function holdsInOrder(found: string, expected: string, theirs: (line: string) => boolean): boolean {
  const ours = splitLines(expected);
  let next = 0;
  for (const line of splitLines(found)) {
    if (next < ours.length && line === ours[next]) next++;
    else if (!theirs(line)) return false;
  }
  return next === ours.length;
}

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** A `workspace.archived` event of this run for one of its finished workspaces. */
function isArchiveLine(
  line: string,
  runId: string,
  statusOf: (workspace: string) => WorkspaceStatus | undefined,
): boolean {
  let event: Partial<Extract<RunEvent, { type: "workspace.archived" }>>;
  try {
    event = JSON.parse(line);
  } catch {
    return false;
  }
  if (event?.type !== "workspace.archived" || event.runId !== runId) return false;
  const status = typeof event.workspace === "string" ? statusOf(event.workspace) : undefined;
  return status === "succeeded" || status === "failed" || status === "skipped";
}
