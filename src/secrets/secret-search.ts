import { StringDecoder } from "node:string_decoder";
import type { Redactor } from "./redact.js";

/**
 * Which of a redactor's secrets a text read piece by piece holds, in any spelling the redactor
 * replaces: a file is looked at a piece at a time, never loaded whole. Each piece is searched
 * with the tail of the one before it that a secret cut off by the boundary may have started in.
 */
export class SecretSearch {
  private readonly decoder = new StringDecoder("utf8");
  private readonly found = new Set<string>();
  /** The end of what was searched that a secret spelled across the boundary may start in. */
  private tail = "";

  constructor(private readonly redactor: Redactor) {}

  /** Searches the next piece. */
  write(bytes: Uint8Array): void {
    this.search(this.decoder.write(bytes));
  }

  /** Searches what is left and returns the secrets found (values: never for showing). */
  end(): string[] {
    this.search(this.decoder.end());
    return [...this.found];
  }

  private search(piece: string): void {
    if (piece === "") return;
    const text = this.tail + piece;
    for (const secret of this.redactor.found(text)) this.found.add(secret);
    // A spelling not found whole ends past the text, so it starts in its last characters.
    // Whether the first of those is escaped depends on how many backslashes come before them:
    // only that count's parity goes along (all of them made a run of backslashes quadratic).
    const start = Math.max(0, text.length - this.redactor.longestSpelling + 1);
    let before = start;
    while (before > 0 && text[before - 1] === "\\") before--;
    this.tail = ((start - before) % 2 === 1 ? "\\" : "") + text.slice(start);
  }
}

/** Largest piece of a file or blob searched at once: bounds the memory a large file costs. */
export const SEARCH_PIECE_BYTES = 1024 * 1024;

/** The secrets of `redactor` that `bytes` hold, searched {@link SEARCH_PIECE_BYTES} at a time. */
export function secretsInBytes(bytes: Uint8Array, redactor: Redactor): string[] {
  const search = new SecretSearch(redactor);
  for (let at = 0; at < bytes.length; at += SEARCH_PIECE_BYTES) {
    search.write(bytes.subarray(at, at + SEARCH_PIECE_BYTES));
  }
  return search.end();
}
