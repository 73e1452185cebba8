import { runGitHead } from "../git/run-git.js";

/** A marker that should rarely reach the base branch, found on a line the diff adds. */
export interface AddedMarker {
  file: string;
  /** Line number in the new version of the file. */
  line: number;
  marker: MarkerKind;
  text: string;
  /**
   * The file holds NUL bytes, binary by git's test (an image can hold "TODO" by chance): its
   * markers warn and never block. Not left out: a NUL in a comment would hide a `debugger`.
   */
  binary?: true;
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
 * new line number from each `@@ -a,b +c,d @@` hunk header, then one per added line. A hunk's
 * lines are counted by its header: an added line that reads `++ /dev/null` shows as `+++
 * /dev/null` and must not pass for a header that hides the lines after it.
 */
export function findAddedMarkers(diff: string): AddedMarker[] {
  const found: AddedMarker[] = [];
  /** Files whose diff lines hold a NUL byte: binary (git's own test), printed only by `--text`. */
  const binary = new Set<string>();
  let file: string | undefined;
  let line = 0;
  let oldLeft = 0;
  let newLeft = 0;
  for (const text of diff.split("\n")) {
    // A line of neither kind ends a hunk whose header promised more (it cannot, from git).
    if ((oldLeft > 0 || newLeft > 0) && !/^[-+\\]/.test(text)) {
      oldLeft = 0;
      newLeft = 0;
    }
    if (oldLeft > 0 || newLeft > 0) {
      if (file !== undefined && text.includes("\0")) binary.add(file);
      if (text.startsWith("-")) oldLeft--;
      else if (text.startsWith("+")) {
        newLeft--;
        const added = text.slice(1);
        if (file !== undefined) {
          for (const { kind, pattern } of MARKERS) {
            if (pattern.test(added)) found.push({ file, line, marker: kind, text: added.trim() });
          }
        }
        line++;
      }
      continue;
    }
    if (text.startsWith("+++ ")) {
      const target = unquoted(text.slice(4));
      file = target === "/dev/null" ? undefined : target.replace(/^b\//, "");
      continue;
    }
    if (text.startsWith("@@")) {
      const match = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(text);
      line = match === null ? 0 : Number(match[2]);
      oldLeft = match === null ? 0 : Number(match[1] ?? 1);
      newLeft = match === null ? 0 : Number(match[3] ?? 1);
    }
  }
  return found.map((marker) => (binary.has(marker.file) ? { ...marker, binary: true } : marker));
}

/** C escapes git writes in a quoted path (`"b/caf\303\251.js"`), as the bytes they stand for. */
const C_ESCAPES: Readonly<Record<string, number>> = {
  a: 7,
  b: 8,
  t: 9,
  n: 10,
  v: 11,
  f: 12,
  r: 13,
  '"': 34,
  "\\": 92,
};

/** A path of a diff header as git wrote it, unquoted when git quoted it (unusual bytes). */
function unquoted(written: string): string {
  if (!(written.startsWith('"') && written.endsWith('"') && written.length >= 2)) return written;
  const inner = written.slice(1, -1);
  const bytes: number[] = [];
  for (let at = 0; at < inner.length; at++) {
    const char = inner[at] as string;
    if (char !== "\\") {
      bytes.push(...Buffer.from(char, "utf8"));
      continue;
    }
    const octal = /^[0-7]{3}/.exec(inner.slice(at + 1))?.[0];
    if (octal !== undefined) {
      bytes.push(Number.parseInt(octal, 8));
      at += 3;
      continue;
    }
    const next = inner[at + 1] ?? "";
    bytes.push(C_ESCAPES[next] ?? next.charCodeAt(0));
    at++;
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Bytes of the diff scanned: an agent's branch can add more than a string can hold. */
export const MAX_SCANNED_DIFF_BYTES = 64 * 1024 * 1024;

/**
 * The markers the commits of `start..head` add (`git diff -U0`, no renames, no colour), and
 * whether the diff was longer than `maxBytes` (then only its first `maxBytes` were scanned). Read
 * as text whatever the attributes say: a `.gitattributes` with `* -diff` or `binary` (an agent's,
 * merged before, in the checkout git runs in) would make git print "Binary files differ" and
 * hide every added line; a textconv or external diff driver would show something else than the
 * lines. Files holding NUL bytes, binary by git's own test, are marked so by the parser.
 */
export async function addedMarkers(
  root: string,
  start: string,
  head: string,
  maxBytes = MAX_SCANNED_DIFF_BYTES,
): Promise<{ markers: AddedMarker[]; truncated: boolean }> {
  const diff = await runGitHead(
    root,
    [
      "diff",
      "-U0",
      "--no-color",
      "--text",
      "--no-textconv",
      "--no-ext-diff",
      "--no-renames",
      "--src-prefix=a/",
      "--dst-prefix=b/",
      `${start}..${head}`,
      "--",
    ],
    maxBytes,
  );
  return { markers: findAddedMarkers(diff.stdout), truncated: diff.truncated };
}
