/** Versions of the programs conductor drives, and the oldest ones it reads correctly. */

/**
 * codex 0.144 restructured the `exec --json` events ("canonical turn items"); conductor reads
 * that shape (checked with 0.169).
 */
export const MIN_CODEX_VERSION = "0.144.0";
/** claude 2.x: `-p --output-format stream-json --verbose` as conductor reads it (checked with 2.1.196). */
export const MIN_CLAUDE_VERSION = "2.0.0";
/** Node.js as in package.json's engines. */
export const MIN_NODE_VERSION = "20.19.0";
/** git: `worktree add --no-track`, `merge-tree --write-tree` (2.38). */
export const MIN_GIT_VERSION = "2.38.0";

/** The first `x.y.z` in a program's version output, or undefined. */
export function parseVersion(text: string): string | undefined {
  return /(\d+)\.(\d+)\.(\d+)/.exec(text)?.[0];
}

/** Whether version `a` is at least `b` (both `x.y.z`). */
export function atLeast(a: string, b: string): boolean {
  const left = a.split(".").map(Number);
  const right = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff > 0;
  }
  return true;
}
