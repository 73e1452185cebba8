import { git } from "../git/worktree.js";

/** A marker that should rarely reach the base branch, found on a line the diff adds. */
export interface AddedMarker {
  file: string;
  /** Line number in the new version of the file. */
  line: number;
  marker: MarkerKind;
  text: string;
}

/** The markers looked for; `debugger` and `.only(` break things, the others are leftovers. */
export type MarkerKind = "TODO" | "FIXME" | "console.log" | "debugger" | ".only(";

const MARKERS: readonly { kind: MarkerKind; pattern: RegExp }[] = [
  { kind: "TODO", pattern: /\bTODO\b/ },
  { kind: "FIXME", pattern: /\bFIXME\b/ },
  { kind: "console.log", pattern: /\bconsole\.log\s*\(/ },
  { kind: "debugger", pattern: /\bdebugger\b/ },
  { kind: ".only(", pattern: /\.only\s*\(/ },
];

/** Markers that block a merge (they change what runs); the others warn. */
export const BLOCKING_MARKERS: ReadonlySet<MarkerKind> = new Set(["debugger", ".only("]);

/**
 * The markers on lines that `git diff -U0` adds (pure): the file from each `+++ b/…` header, the
 * new line number from each `@@ -a,b +c,d @@` hunk header, then one per added line.
 */
export function findAddedMarkers(diff: string): AddedMarker[] {
  const found: AddedMarker[] = [];
  let file: string | undefined;
  let line = 0;
  for (const text of diff.split("\n")) {
    if (text.startsWith("+++ ")) {
      const target = text.slice(4);
      file = target === "/dev/null" ? undefined : target.replace(/^b\//, "");
      continue;
    }
    if (text.startsWith("@@")) {
      const match = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text);
      line = match === null ? 0 : Number(match[1]);
      continue;
    }
    if (text.startsWith("+") && file !== undefined) {
      const added = text.slice(1);
      for (const { kind, pattern } of MARKERS) {
        if (pattern.test(added)) found.push({ file, line, marker: kind, text: added.trim() });
      }
      line++;
    }
  }
  return found;
}

/** The markers the commits of `start..head` add (`git diff -U0`, no renames, no colour). */
export async function addedMarkers(
  root: string,
  start: string,
  head: string,
): Promise<AddedMarker[]> {
  const diff = await git(root, [
    "diff",
    "-U0",
    "--no-color",
    "--no-ext-diff",
    "--no-renames",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    `${start}..${head}`,
    "--",
  ]);
  return findAddedMarkers(diff);
}
