import path from "node:path";
import { readRegularFile, targetKindOf } from "../fs/regular-file.js";
import { commonGitDir } from "./facts.js";
import { runGit } from "./run-git.js";

/**
 * What the run's integrity check needs to know of Spotlight (`src/spotlight/`), which changes the
 * main checkout on purpose: the trees its marker names. Read here, below the executor, so that the
 * executor never depends on a command module.
 */

/** Spotlight's marker file, relative to the repository's common git directory. */
export const SPOTLIGHT_MARKER = path.join("conductor", "spotlight.json");

/** The trees of a Spotlight marker: the main checkout's own files, and those shown since. */
export interface SpotlightTrees {
  original: string;
  shown: string[];
}

/** The trees of the Spotlight that is on in the main checkout at `root`, or undefined. */
export async function readSpotlightTrees(root: string): Promise<SpotlightTrees | undefined> {
  const dotGit = path.join(root, ".git");
  // Read before and after every agent: synchronously, as a stat and a small file are cheaper than
  // their trips through libuv's thread pool (see src/fs/regular-file.ts).
  const common = (await targetKindOf(dotGit)) === "directory" ? dotGit : await commonGitDir(root);
  let marker: { original?: unknown; applied?: unknown; pending?: { to?: unknown } };
  try {
    marker = JSON.parse((await readRegularFile(path.join(common, SPOTLIGHT_MARKER))) ?? "");
  } catch {
    return undefined;
  }
  if (typeof marker.original !== "string") return undefined;
  const shown = [marker.applied, marker.pending?.to].filter(
    (tree): tree is string => typeof tree === "string",
  );
  return { original: marker.original, shown };
}

/**
 * Paths of the main checkout Spotlight may have changed between two looks at its marker: every
 * sync in between moved paths where the shown trees differ, and each of those differs from the
 * checkout's own files in at least one of them.
 */
export async function spotlightFootprint(
  root: string,
  looks: readonly (SpotlightTrees | undefined)[],
): Promise<Set<string>> {
  const footprint = new Set<string>();
  for (const look of looks) {
    if (look === undefined) continue;
    for (const tree of look.shown) {
      if (tree === look.original) continue;
      const out = await runGit(root, [
        "diff-tree",
        "-r",
        "-z",
        "--no-renames",
        "--name-only",
        look.original,
        tree,
      ]);
      for (const file of out.split("\0")) if (file !== "") footprint.add(file);
    }
  }
  return footprint;
}
