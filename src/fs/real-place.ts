import { realpathSync } from "node:fs";
import { isInside } from "./is-inside.js";

/** Where a path really is once every link on the way there is followed. */
export interface RealPlace {
  real: string;
  /** Whether `real` is the repository's root or lies below it. */
  inside: boolean;
}

/**
 * The one test of whether a file the config names stays inside the repository: `file` resolved
 * through every link (`realRoot` is the repository root, itself resolved), or undefined when
 * nothing is there (a dangling link included). Prompt files, copied files and context files are
 * all judged by it, when the config is checked and again when files are copied.
 */
export function realPlaceOf(realRoot: string, file: string): RealPlace | undefined {
  let real: string;
  try {
    real = realpathSync.native(file);
  } catch {
    return undefined;
  }
  return { real, inside: isInside(realRoot, real) };
}

/** A message's words for a file that leads out of the repository. */
export const LINKS_OUTSIDE = "is a link that points outside the repository";
