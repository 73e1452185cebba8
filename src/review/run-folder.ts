import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { StateError } from "../errors.js";
import { loadRunFolder } from "../executor/load-run.js";
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

/** Loads a run from a folder given by path (see `loadRunFolder` of the executor). */
export async function loadRunAt(dir: string): Promise<RunFolder> {
  return { dir, state: await loadRunFolder(dir) };
}
