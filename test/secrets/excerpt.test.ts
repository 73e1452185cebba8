import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readLogTail } from "../../src/report/files.js";
import { redactedExcerpt } from "../../src/secrets/excerpt.js";
import { REDACTED, Redactor } from "../../src/secrets/redact.js";

const secret = "sk-excerpt-7f3a9c2e5b1d4086";
const redactor = new Redactor([secret]);

/** Every piece of `secret` of 4 characters or more that `text` shows. */
function piecesShown(text: string): string[] {
  const pieces: string[] = [];
  for (let start = 0; start + 4 <= secret.length; start++) {
    const piece = secret.slice(start, start + 4);
    if (text.includes(piece)) pieces.push(piece);
  }
  return pieces;
}

describe("Redactor.redactExcerpt", () => {
  it("replaces a secret the excerpt starts inside of, found whole in the text before it", () => {
    const text = `key=${secret} and more`;
    const from = "key=".length + 10;
    expect(redactor.redactExcerpt(text, from)).toBe(`${REDACTED} and more`);
    // The same cut without the text before it shows the secret's end.
    expect(redactor.redact(text.slice(from))).toBe(`${secret.slice(10)} and more`);
  });

  it("replaces the beginning of a secret cut off by the excerpt's end", () => {
    const text = `first line\nkey=${secret.slice(0, 12)}`;
    expect(redactor.redactExcerpt(text, 0)).toBe(`first line\nkey=${REDACTED}`);
  });

  it("leaves out secrets wholly before the excerpt and keeps ordinary text", () => {
    const text = `${secret}\nplain text\n${secret} twice\n`;
    const from = secret.length + 1;
    expect(redactor.redactExcerpt(text, from)).toBe(`plain text\n${REDACTED} twice\n`);
    expect(new Redactor([]).redactExcerpt(text, from)).toBe(text.slice(from));
  });

  it("replaces a JSON-escaped secret cut by the excerpt's start", () => {
    const escaped = JSON.stringify({ text: secret }).replace(/-/g, "\\u002d");
    const from = escaped.indexOf("excerpt") + 3;
    const shown = redactor.redactExcerpt(escaped, from);
    expect(shown).toBe(`${REDACTED}"}`);
  });
});

describe("redactedExcerpt", () => {
  it("starts at the next line, or at the next character of a line longer than the excerpt", () => {
    const bytes = Buffer.from(`one\ntwo\nthree é${secret} end`);
    const lineCut = redactedExcerpt(bytes, 0, 2, redactor);
    expect(lineCut).toEqual({ text: `two\nthree é${REDACTED} end`, start: 4, end: bytes.length });
    // Inside the two bytes of é and the secret after it, with no newline left: the next character.
    const eAt = bytes.indexOf("é");
    const charCut = redactedExcerpt(bytes, 0, eAt + 1, redactor);
    expect(charCut.text).toBe(`${REDACTED} end`);
    expect(charCut.start).toBe(eAt + 2);
  });

  it("keeps an excerpt that already starts a line", () => {
    const bytes = Buffer.from("one\ntwo\n");
    expect(redactedExcerpt(bytes, 0, 4, redactor).text).toBe("two\n");
  });
});

describe("readLogTail", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "conductor-excerpt-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("shows no piece of a secret that the tail's start or the log's end cuts", () => {
    const file = path.join(dir, "agent.log");
    // One long line (an agent's JSON event), no newline in the tail: the tail starts inside
    // the secret, and the log ends inside another copy of it (the agent still printing).
    const tailBytes = 64;
    const after = `${"y".repeat(30)} ${secret.slice(0, 14)}`;
    const cutAt = tailBytes - after.length;
    writeFileSync(file, `early line\n${"x".repeat(200)}${secret}${after}`);
    expect(cutAt).toBeGreaterThan(4);
    expect(cutAt).toBeLessThan(secret.length - 4);
    const tail = readLogTail(file, redactor, tailBytes) as string;
    expect(tail).toBe(`${REDACTED}${"y".repeat(30)} ${REDACTED}`);
    expect(piecesShown(tail)).toEqual([]);
  });

  it("reads a short log whole", () => {
    const file = path.join(dir, "short.log");
    writeFileSync(file, `one\nkey ${secret}\n`);
    expect(readLogTail(file, redactor)).toBe(`one\nkey ${REDACTED}\n`);
    expect(readLogTail(path.join(dir, "missing.log"), redactor)).toBeUndefined();
  });
});
