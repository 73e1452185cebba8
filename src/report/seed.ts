import type { RunEvent, SeedMethod, StepResult } from "../executor/events.js";

/** A cache key as people read it: its first 10 hex digits. */
export function shortKey(key: string): string {
  return `${key.slice(0, 10)}…`;
}

/**
 * What the seed step is doing now: `seeding node_modules from cache 3f2a1b2c9d…`, `waiting for
 * cache …`, `filling cache …`. Views say which step it is (`seed: …`) when the text does not.
 */
export function describeSeedPhase(event: Extract<RunEvent, { type: "seed.phase" }>): string {
  const folders = event.folders.join(", ");
  const key = shortKey(event.key);
  switch (event.phase) {
    case "waiting":
      return `waiting for cache ${key}, which another workspace is filling`;
    case "populating":
      return `filling cache ${key} (${folders}): running the seed script once in a fresh checkout`;
    case "placing":
      return `seeding ${folders} from cache ${key}`;
    default:
      event.phase satisfies never;
      return folders;
  }
}

const METHOD_WORDS: Record<SeedMethod, string> = {
  reflink: "reflink clone",
  copy: "copy",
  hardlink: "hard links",
  symlink: "symlink",
  absent: "not made by the seed script",
};

/** `node_modules by hard links from cache 3f2a1b2c9d… (filled now)`. */
export function describeSeedResult(result: Extract<StepResult, { step: "seed" }>): string {
  const folders = result.folders.map(
    (folder) => `${folder.path} by ${METHOD_WORDS[folder.method]}`,
  );
  const placed = result.folders.length === 0 ? "nothing seeded" : folders.join(", ");
  return `${placed} from cache ${shortKey(result.key)}${result.populated ? " (filled now)" : ""}`;
}
