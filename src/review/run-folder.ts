import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { StateError } from "../errors.js";
import type { RunEvent } from "../executor/events.js";
import { abandoned, isConductorAlive } from "../executor/load-run.js";
import { applyEvents, initialRunState } from "../executor/state-fold.js";
import type { RunState } from "../executor/types.js";

/** A run loaded from a folder given by path (a CI artifact, a copy from another machine). */
export interface RunFolder {
  dir: string;
  state: RunState;
}

/** Whether a folder holds a run: its events log or its state file. */
export function isRunFolder(dir: string): boolean {
  return existsSync(path.join(dir, "events.jsonl")) || existsSync(path.join(dir, "run.json"));
}

/** How deep below a named folder run folders are looked for (artifact / run folder). */
const SEARCH_DEPTH = 3;

/**
 * The run folders named on the command line: each folder itself when it is a run folder, else
 * the run folders found below it (downloaded CI artifacts wrap each run folder in one or two
 * more folders: `shards/<artifact>/<run-id>/`).
 */
export function expandRunFolders(dirs: readonly string[]): string[] {
  const found: string[] = [];
  for (const dir of dirs) {
    const inside = runFoldersIn(dir, SEARCH_DEPTH);
    if (inside.length === 0) {
      throw new StateError(
        `${dir} is not a run folder: ${existsSync(dir) ? "neither it nor the folders in it have an events.jsonl or run.json" : "it does not exist"}`,
        {
          hint: "Name the folders under .conductor/runs/ of each shard (or the artifacts that hold them).",
        },
      );
    }
    found.push(...inside);
  }
  return found;
}

function runFoldersIn(dir: string, depth: number): string[] {
  if (isRunFolder(dir)) return [dir];
  if (depth === 0 || !existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .flatMap((name) => runFoldersIn(path.join(dir, name), depth - 1));
}

/**
 * Loads a run from its folder alone, wherever it is: the fold of its events log (as
 * `conductor status` reads a run), else its state file. A run that claims to be running but has
 * no live conductor here is read as interrupted, as `loadRun` does.
 */
export async function loadRunFolder(dir: string): Promise<RunFolder> {
  const events = await readEventsFile(path.join(dir, "events.jsonl"));
  const first = events[0];
  let state: RunState;
  if (first?.type === "run.started") {
    try {
      state = applyEvents(
        initialRunState({
          runId: first.runId,
          plan: first.plan,
          createdAt: first.time,
          pid: first.pid,
        }),
        events,
      );
    } catch (error) {
      throw new StateError(`the events log of ${dir} is damaged: ${(error as Error).message}`);
    }
  } else {
    state = await readStateFile(path.join(dir, "run.json"));
  }
  return {
    dir,
    state: state.status === "running" && !isConductorAlive(state.pid) ? abandoned(state) : state,
  };
}

async function readEventsFile(file: string): Promise<RunEvent[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  const events: RunEvent[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      events.push(JSON.parse(line) as RunEvent);
    } catch {
      // A torn last line of a killed run; the lines before it are whole.
    }
  }
  return events;
}

async function readStateFile(file: string): Promise<RunState> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) throw new StateError(`${path.dirname(file)} has no readable run state`);
  try {
    return JSON.parse(text) as RunState;
  } catch {
    throw new StateError(`the run state ${file} is damaged (not JSON)`);
  }
}
