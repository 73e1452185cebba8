import {
  appendFileSync,
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  type Stats,
  writeFileSync,
  writeSync,
} from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { StateError } from "../errors.js";
import { commonGitDir } from "../git/facts.js";
import { conductorCommand } from "../hint/command.js";
import type { RunEvent } from "./events.js";
import type { RunState, Step } from "./types.js";

/**
 * The on-disk state of runs: `.conductor/runs/<run-id>/` with `run.json` (the state, written
 * atomically), `events.jsonl` (every event, appended as it happens) and per-workspace logs.
 * If the folder disappears mid-run it is made again, so a run never dies of a deleted state folder.
 */

/** The state folder at the repository root (kept out of git via info/exclude). */
export const STATE_DIR_NAME = ".conductor";

/** Folder holding every run of a repository. */
export function runsDir(root: string): string {
  return path.join(root, STATE_DIR_NAME, "runs");
}

/**
 * A new run id that sorts by creation, also within one second: `YYYYMMDD-HHMMSS-mmmxx` (UTC
 * time to the millisecond, then 2 random hex digits so that runs started in the same
 * millisecond by different processes still differ).
 */
export function newRunId(now: Date, random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").replace(".", "-");
  const suffix = Math.floor(random() * 0x100)
    .toString(16)
    .padStart(2, "0");
  return `${stamp.slice(0, 19)}${suffix}`;
}

/** Paths of one run's folder. */
export class RunPaths {
  readonly dir: string;
  readonly stateFile: string;
  /** Joined once: every event of a run is appended to it. */
  readonly eventsFile: string;

  constructor(
    readonly root: string,
    readonly runId: string,
  ) {
    this.dir = path.join(runsDir(root), runId);
    this.stateFile = path.join(this.dir, "run.json");
    this.eventsFile = path.join(this.dir, "events.jsonl");
  }

  workspaceDir(workspace: string): string {
    return path.join(this.dir, "workspaces", workspace);
  }

  /** Log of one step (setup, agent, check, archive, or a follow-up's agent log). */
  logFile(workspace: string, step: Step | "archive" | "run"): string {
    return path.join(this.workspaceDir(workspace), `${step}.log`);
  }

  /** The agent's final message. */
  finalMessageFile(workspace: string): string {
    return path.join(this.workspaceDir(workspace), "final.md");
  }

  /** The prompt handed to the agent (also given to command agents as $CONDUCTOR_PROMPT_FILE). */
  promptFile(workspace: string): string {
    return path.join(this.workspaceDir(workspace), "prompt.md");
  }
}

/**
 * Writes a file atomically: a temporary file in the same folder, then a rename. Synchronous, as
 * events.jsonl's appends are: these are small files in the page cache (run.json of 64 workspaces
 * is 200 KB), and each asynchronous step (folder, open, write, close, rename) is a trip through
 * libuv's thread pool; the reports at the end of a run took four such chains one after another.
 */
export function writeFileAtomic(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.${Math.random().toString(16).slice(2)}.tmp`;
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, file);
  } catch (error) {
    // A failed write or rename (a folder in the way, a full disk) leaves no temporary file.
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Appends one event as a JSON line. Synchronous, so the order on disk is the order of events. */
export function appendEvent(paths: RunPaths, event: RunEvent): void {
  const line = `${JSON.stringify(event)}\n`;
  try {
    appendFileSync(paths.eventsFile, `${tornLineEnd(paths.eventsFile)}${line}`);
  } catch {
    mkdirSync(paths.dir, { recursive: true });
    appendFileSync(paths.eventsFile, line);
  }
}

/** What {@link EventsFile.append} wrote, and the file as it stood just before and just after. */
export interface AppendedEvent {
  text: string;
  before: Stats;
  after: Stats;
}

/**
 * A run's events.jsonl held open by the session that records it: one `open` of its path a
 * session instead of one an event (8 ms of a 64-workspace run). Synchronous, as
 * {@link appendEvent}. A file removed meanwhile (no link left to it) is made again at the next
 * append, its folder too; {@link reopen} after something else put a file at its path.
 */
export class EventsFile {
  private fd: number | undefined;
  /** A newline to end a line torn by a conductor killed in the middle of an append. */
  private end = "";

  constructor(private readonly paths: RunPaths) {}

  append(event: RunEvent): AppendedEvent {
    let fd = this.fd ?? this.open();
    let before = fstatSync(fd);
    if (before.nlink === 0) {
      this.close();
      fd = this.open();
      before = fstatSync(fd);
    }
    const text = `${this.end}${JSON.stringify(event)}\n`;
    writeSync(fd, text);
    this.end = "";
    return { text, before, after: fstatSync(fd) };
  }

  /** Opens the path again at the next append. */
  reopen(): void {
    this.close();
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
  }

  private open(): number {
    let fd: number;
    try {
      fd = openSync(this.paths.eventsFile, "a+");
    } catch {
      mkdirSync(this.paths.dir, { recursive: true });
      fd = openSync(this.paths.eventsFile, "a+");
    }
    this.end = endsTorn(fd) ? "\n" : "";
    this.fd = fd;
    return fd;
  }
}

/** Events files this process has already looked at the end of. */
const checkedEnds = new Set<string>();

/**
 * A conductor killed in the middle of an append leaves a last line without its newline; the next
 * event appended to it would be glued to that torn line and lost when read. The first append of
 * this process to a file ends such a line first.
 */
function tornLineEnd(file: string): string {
  if (checkedEnds.has(file)) return "";
  checkedEnds.add(file);
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    return endsTorn(fd) ? "\n" : "";
  } catch {
    return ""; // no file yet
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Whether the file open as `fd` (for reading) ends in a line without its newline. */
function endsTorn(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  return readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
}

/** Saves the run state atomically; returns the length of the text written. */
export function saveRunState(paths: RunPaths, state: RunState): number {
  const text = `${JSON.stringify(state, null, 2)}\n`;
  writeFileAtomic(paths.stateFile, text);
  return text.length;
}

/** Ids of the runs of a repository, oldest first. */
export function listRunIds(root: string): string[] {
  try {
    return readdirSync(runsDir(root), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

/** Resolves a run id given by the user (or the latest run when none is given). */
export function resolveRunId(root: string, requested: string | undefined): string {
  const ids = listRunIds(root);
  if (ids.length === 0) {
    throw new StateError("there are no runs in this repository yet", {
      hint: `Start one with \`${conductorCommand(["run"])}\`.`,
    });
  }
  if (requested === undefined) return ids[ids.length - 1] as string;
  const matches = ids.filter((id) => id === requested || id.startsWith(requested));
  if (matches.length === 1) return matches[0] as string;
  if (matches.length > 1)
    throw new StateError(`run id "${requested}" is ambiguous: ${matches.join(", ")}`);
  throw new StateError(`there is no run "${requested}"`, {
    hint: `Runs: ${ids.slice(-5).join(", ")}; \`${conductorCommand(["runs"])}\` lists them all.`,
  });
}

/** Reads a run's state file (`run.json` of a run folder). */
export async function readRunState(stateFile: string): Promise<RunState> {
  let text: string;
  try {
    text = await readFile(stateFile, "utf8");
  } catch {
    throw new StateError(`${path.dirname(stateFile)} has no readable run state (${stateFile})`);
  }
  try {
    return JSON.parse(text) as RunState;
  } catch {
    throw new StateError(`the run state ${stateFile} is damaged (not JSON)`);
  }
}

/** Reads the events a run has recorded (`events.jsonl`), skipping a torn last line left by a crash. */
export async function readEvents(eventsFile: string): Promise<RunEvent[]> {
  return (await readEventLines(eventsFile)).map((entry) => entry.event);
}

/** One event of `events.jsonl` with its 1-based line, so a damaged one can be pointed at. */
export interface EventLine {
  line: number;
  /** As parsed: what conductor wrote, unless something else wrote to the file. */
  event: RunEvent;
}

/** {@link readEvents}, each event with its line. */
export async function readEventLines(eventsFile: string): Promise<EventLine[]> {
  const text = await readFile(eventsFile, "utf8").catch(() => "");
  const events: EventLine[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    try {
      events.push({ line: index + 1, event: JSON.parse(line) as RunEvent });
    } catch {
      // Only the last line can be torn (appends are sequential); ignore it.
    }
  }
  return events;
}

/** A workspace of a run whose folder `conductor clean` removed while its branch stayed. */
export interface CleanedWorkspace {
  runId: string;
  configFile: string | undefined;
  workspace: string;
  branch: string;
}

/**
 * Where `conductor clean` notes the kept branches of the run folders it removes, one JSON line
 * each, so that a later run that needs a branch's name still knows which run made it. It lives
 * in the git directory, beside the branches it describes: `.conductor/runs/` holds run folders
 * only.
 */
async function cleanedRunsFile(root: string): Promise<string> {
  return path.join(await commonGitDir(root), "conductor", "cleaned-runs.jsonl");
}

/** Notes kept branches of removed run folders. */
export async function recordCleaned(
  root: string,
  entries: readonly CleanedWorkspace[],
): Promise<void> {
  if (entries.length === 0) return;
  const file = await cleanedRunsFile(root);
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(""));
}

/** The kept branches of removed run folders, oldest first. */
export async function readCleaned(root: string): Promise<CleanedWorkspace[]> {
  const text = await readFile(await cleanedRunsFile(root), "utf8").catch(() => "");
  const entries: CleanedWorkspace[] = [];
  for (const line of text.split("\n")) {
    try {
      if (line.trim() !== "") entries.push(JSON.parse(line) as CleanedWorkspace);
    } catch {
      // a torn last line of a killed clean: that entry is lost, the others stand
    }
  }
  return entries;
}
