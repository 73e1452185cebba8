import { Transform, type TransformCallback } from "node:stream";
import { StringDecoder } from "node:string_decoder";

/** Shown in place of a secret in logs, events and reports. */
export const REDACTED = "[redacted]";

/**
 * The shapes a secret takes in agent output: as printed, and as JSON-escaped by the agents'
 * event streams (`\"`, `\\`, `\n`; non-ASCII and `<>&` as `\uXXXX` by some encoders; escaped twice
 * when a JSON text is itself quoted in JSON, as tool output that printed JSON is).
 */
export function secretForms(secret: string): string[] {
  const escaped = JSON.stringify(secret).slice(1, -1);
  const asciiOnly = escaped.replace(
    /[^\x20-\x7e]|[<>&]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  const twice = JSON.stringify(escaped).slice(1, -1);
  return [...new Set([secret, escaped, asciiOnly, twice])];
}

/** Replaces known secret values, in each of their {@link secretForms}, in text and streams. */
export class Redactor {
  private readonly forms: string[];
  private readonly firstChars: Set<string>;

  /** `secrets` are taken as given: deciding what is secret enough is the caller's job. */
  constructor(secrets: Iterable<string>) {
    const unique = new Set([...secrets].filter((secret) => secret !== ""));
    this.forms = [...new Set([...unique].flatMap(secretForms))]
      // Longest first, so a secret that contains another (or its own escaped form) is replaced whole.
      .sort((a, b) => b.length - a.length);
    this.firstChars = new Set(this.forms.map((form) => form[0] as string));
  }

  /** Whether there is anything to redact at all. */
  get active(): boolean {
    return this.forms.length > 0;
  }

  /** A copy of `text` with every secret replaced. */
  redact(text: string): string {
    let result = text;
    for (const form of this.forms) {
      if (result.includes(form)) result = result.replaceAll(form, REDACTED);
    }
    return result;
  }

  /** Length of the longest end of `text` (at most `max`) that is the beginning of a secret. */
  secretPrefixLength(text: string, max: number): number {
    for (let start = Math.max(0, text.length - max); start < text.length; start++) {
      // Most positions cannot start a secret; checking the first character first keeps a long
      // secret (a PEM key) from making every chunk cost its length squared.
      if (!this.firstChars.has(text[start] as string)) continue;
      const tail = text.slice(start);
      if (this.forms.some((form) => form.startsWith(tail))) return tail.length;
    }
    return 0;
  }

  /** A stream that redacts what passes through it, also across chunk boundaries. */
  stream(): Transform {
    const decoder = new StringDecoder("utf8");
    const keep = Math.max(0, ...this.forms.map((form) => form.length)) - 1;
    let pending = "";
    const redactor = this;
    return new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
        if (!redactor.active) {
          done(null, chunk);
          return;
        }
        // Hold back only a tail that could be the start of a secret split over two chunks, so
        // ordinary output is passed on at once (live logs, `conductor serve`).
        const text = redactor.redact(pending + decoder.write(chunk));
        pending = text.slice(text.length - redactor.secretPrefixLength(text, keep));
        done(null, text.slice(0, text.length - pending.length));
      },
      flush(done: TransformCallback) {
        done(null, redactor.active ? redactor.redact(pending + decoder.end()) : undefined);
      },
    });
  }
}
