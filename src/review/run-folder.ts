import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { StateError } from "../errors.js";
import { loadRunFolder } from "../executor/load-run.js";
import type { RunState } from "../executor/types.js";
import { describeKind, type FileKind, kindOfStats } from "../fs/regular-file.js";

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
    // A file (a run's summary.json, say) is named by mistake: it has no folders to look in.
    const kind = kindOfTarget(dir);
    const inside = kind === "directory" ? runFoldersIn(dir, SEARCH_DEPTH) : [];
    if (inside.length === 0) {
      const why =
        kind === "missing"
          ? "it does not exist"
          : kind === "directory"
            ? "neither it nor the folders in it have an events.jsonl or run.json"
            : `it is ${describeKind(kind)}`;
      throw new StateError(`${dir} is not a run folder: ${why}`, {
        hint: "Name the folders under .conductor/runs/ of each shard (or the artifacts that hold them).",
      });
    }
    found.push(...inside);
  }
  return found;
}

/** What `dir` is, links followed; "missing" also when it cannot be looked at. */
function kindOfTarget(dir: string): FileKind {
  try {
    return kindOfStats(statSync(dir));
  } catch {
    return "missing";
  }
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
