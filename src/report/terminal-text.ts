import { StringDecoder } from "node:string_decoder";
import { ESCAPE_SEQUENCE } from "./escape-sequence.js";

/** A colour or text style (SGR): the one kind of sequence that only changes how text looks. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matches SGR sequences
const STYLE = /^\u001b\[[0-9;:]*m$/;

/**
 * Control characters other than tab, newline and carriage return (ESC aside, handled above),
 * DEL and the C1 controls: some terminals take U+009B as an escape sequence's start.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what must go
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001a\u001c-\u001f\u007f-\u009f]/;

const UNSAFE = new RegExp(`${ESCAPE_SEQUENCE.source}|${CONTROL.source}`, "g");

/** A sequence whose start is in one chunk waits for its end this long, at most. */
const LONGEST_HELD = 4096;

/**
 * What an agent or a script printed, made safe to show on a terminal: the program is untrusted,
 * and escape sequences in its output would reach the terminal of whoever reads the log: set the
 * window title, write the clipboard (OSC 52), move the cursor to paint over lines, or make the
 * terminal answer into its own input. Colours and styles stay; every other escape sequence and
 * control character goes, except tab, newline and carriage return. Fed chunk by chunk: a
 * sequence cut by a chunk's end waits for the next one.
 */
export class TerminalText {
  private readonly decoder = new StringDecoder("utf8");
  private held = "";

  /** The part of `chunk` (with what was held back) that can be shown now. */
  push(chunk: Buffer | string): string {
    const text = this.held + (typeof chunk === "string" ? chunk : this.decoder.write(chunk));
    const cut = unfinishedSequenceAt(text);
    this.held = text.slice(cut);
    return safe(text.slice(0, cut));
  }

  /** What is left at the end: a sequence never finished is dropped with the rest of its kind. */
  end(): string {
    const text = this.held + this.decoder.end();
    this.held = "";
    return safe(text);
  }
}

function safe(text: string): string {
  return text.replace(UNSAFE, (found) => (STYLE.test(found) ? found : ""));
}

/** Where a sequence starts that the text ends before finishing (its length when there is none). */
function unfinishedSequenceAt(text: string): number {
  const start = text.lastIndexOf("\u001b");
  if (start === -1 || text.length - start > LONGEST_HELD) return text.length;
  const tail = text.slice(start);
  // A CSI or OSC still open, or a lone ESC: the next chunk may finish it.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matches unfinished sequences
  const open = /^\u001b(?:\[[0-?]*[ -/]*|\][^\u0007\u001b]*)?$/.test(tail);
  return open ? start : text.length;
}

/** Control characters but tab and newline, DEL and the C1 controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what must show
const SHOWN_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` with every control character but tab and newline written out (`\x1b`, `\x0d`): for a
 * message that names what an agent chose, such as a file named with an escape sequence. It
 * must show as the name it is, so that the user can find the file, not set the window title,
 * write the clipboard (OSC 52) or paint over the lines around it.
 */
export function showControls(text: string): string {
  return text.replace(
    SHOWN_CONTROLS,
    (found) => `\\x${found.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
