import { realpathSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.js";
import { relativeInside } from "../fs/is-inside.js";
import { shellQuote } from "../hint/shell-quote.js";

/**
 * Refuses an `--out` of `report` that lies inside a run's folder (`.conductor/runs/…`, or a
 * shard folder given to `report merge`): the report would replace a file of the record it is
 * made from (`--out .conductor/runs/<id>/events.jsonl` left a run that no command could read),
 * and `report` is a read-only command. Paths are compared as the disk resolves them, so a link
 * to the folder is caught too.
 */
export function refuseOutInsideRecord(
  out: string,
  recordDirs: readonly string[],
  suggestion: string,
): void {
  const target = realTarget(path.resolve(out));
  for (const dir of recordDirs) {
    const realDir = realTarget(path.resolve(dir));
    const inside = relativeInside(realDir, target);
    if (inside === undefined) continue;
    throw new UsageError(
      `--out ${out} is inside ${dir}, conductor's record of runs: writing the report there would replace what the run recorded`,
      {
        hint: `Write it outside that folder, e.g. --out ${shellQuote(suggestion)} (in the current folder).`,
      },
    );
  }
}

/**
 * Where `file` would be written once every link on its way is followed: the nearest existing
 * folder above it resolved, with the rest of the path as given. The last part is not followed:
 * the report's atomic write replaces a link there rather than writing through it.
 */
function realTarget(file: string): string {
  const rest: string[] = [path.basename(file)];
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      return path.join(realpathSync.native(dir), ...rest);
    } catch {
      if (path.dirname(dir) === dir) return file;
      rest.unshift(path.basename(dir));
    }
  }
}
