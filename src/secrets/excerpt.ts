import type { Redactor } from "./redact.js";

/** Part of a file, its secrets replaced: `text` is what bytes `start`…`end` of the file hold. */
export interface RedactedExcerpt {
  text: string;
  start: number;
  end: number;
}

/**
 * Bytes to read before an excerpt so that a secret it starts inside of is there whole: a UTF-16
 * unit of any spelling of a secret is at most 3 bytes of UTF-8.
 */
export function bytesBeforeExcerpt(redactor: Redactor): number {
  return redactor.longestSpelling * 3;
}

/**
 * The excerpt of a file that starts at byte `from`, moved on to the next line (to the next
 * character when no line starts in it before its end) unless it starts the file, redacted with the bytes read
 * before it. `bytes` are the file's from byte `offset` on, {@link bytesBeforeExcerpt} of them
 * before `from` where the file has them, and end where the excerpt ends.
 */
export function redactedExcerpt(
  bytes: Buffer,
  offset: number,
  from: number,
  redactor: Redactor,
): RedactedExcerpt {
  let start = from - offset;
  if (from > 0 && bytes[start - 1] !== 0x0a) {
    const newline = bytes.indexOf(0x0a, start);
    // Only a line that starts before the end: when the excerpt's only newline ends it (a last
    // line longer than the excerpt), moving past it would show nothing, and the slice before
    // would end there again: an agent's long last line hid its whole log from the page.
    start = newline >= 0 && newline + 1 < bytes.length ? newline + 1 : characterStart(bytes, start);
  }
  const before = bytes.subarray(0, start).toString("utf8").length;
  return {
    text: redactor.redactExcerpt(bytes.toString("utf8"), before),
    start: offset + start,
    end: offset + bytes.length,
  };
}

/** The first byte at or after `at` that starts a UTF-8 character (not a continuation byte). */
function characterStart(bytes: Buffer, at: number): number {
  let start = at;
  while (start < bytes.length && ((bytes[start] as number) & 0xc0) === 0x80) start++;
  return start;
}
