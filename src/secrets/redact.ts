import { Transform, type TransformCallback } from "node:stream";
import { StringDecoder } from "node:string_decoder";

/** Shown in place of a secret in logs, events and reports. */
export const REDACTED = "[redacted]";

/** The characters allowed at one place of a spelling: `"-"`, or `"dD"` for a hex digit. */
type Atom = string;
/** One way to write one UTF-16 unit of a secret: `-`, `\u002d`, `\\u002D`… */
type Spelling = readonly Atom[];
/** One way to write a whole secret: for each of its UTF-16 units, the spellings it may take. */
type Pattern = readonly (readonly Spelling[])[];

/** JSON's two-character escapes. */
const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  "\\": "\\\\",
  "/": "\\/",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/**
 * How many characters of a secret the candidate searches spell out: enough that ordinary text
 * rarely matches. A RegExp spelling out whole secrets overflows V8's regexp compiler for secrets
 * of a few thousand characters (a certificate bundle), so a RegExp only finds where a secret may
 * start and {@link matchAt} checks the rest.
 */
const CANDIDATE_UNITS = 8;

/**
 * The longest source of one candidate RegExp. V8 stops optimising patterns of 20 KB and more,
 * which made a search for a few hundred secrets seventy times slower, so many secrets are
 * searched for with several RegExps instead.
 */
const MAX_SEARCH_SOURCE = 16_000;

/** Whether JSON lets `unit` stand in a string as itself. */
function rawInJson(unit: string): boolean {
  return unit >= " " && unit !== '"' && unit !== "\\";
}

/** `unit` as `\uXXXX` behind `backslashes`, the hex digits in either case. */
function unicodeEscape(backslashes: string, unit: string): Spelling {
  const hex = unit.charCodeAt(0).toString(16).padStart(4, "0").split("");
  const anyCase = (digit: string) =>
    digit === digit.toUpperCase() ? digit : digit + digit.toUpperCase();
  return [...backslashes.split(""), "u", ...hex.map(anyCase)];
}

/** The ways a JSON encoder may write `unit` inside a string. */
function escapedOnce(unit: string): Spelling[] {
  const spellings = [unicodeEscape("\\", unit)];
  const short = SHORT_ESCAPES[unit];
  if (short !== undefined) spellings.push(short.split(""));
  if (rawInJson(unit)) spellings.push([unit]);
  return spellings;
}

/** The ways `unit` comes out when JSON text holding it is quoted in JSON again. */
function escapedTwice(unit: string): Spelling[] {
  const spellings = [unicodeEscape("\\\\", unit)];
  const short = SHORT_ESCAPES[unit];
  // The inner encoder's backslash and the character after it are each the outer one's to write
  // its own way (`\\/`, `\\\/`, `\u005c/`…).
  if (short !== undefined) {
    for (const backslash of escapedOnce("\\"))
      for (const after of escapedOnce(short.slice(1))) spellings.push([...backslash, ...after]);
  }
  // What the inner encoder left as itself, the outer one may leave or escape in its turn.
  if (rawInJson(unit)) spellings.push(...escapedOnce(unit));
  return spellings;
}

/**
 * `make` remembering its answers. Secrets share most of their characters and a long one (a PEM
 * key) has thousands, so what is made of a character is made once and shared.
 */
function remembered<T>(make: (unit: string) => T): (unit: string) => T {
  const known = new Map<string, T>();
  return (unit) => {
    let made = known.get(unit);
    if (made === undefined) {
      made = make(unit);
      known.set(unit, made);
    }
    return made;
  };
}

const spelledAsIs = remembered((unit) => [[unit]]);
const spelledOnce = remembered(escapedOnce);
const spelledTwice = remembered(escapedTwice);

/**
 * The patterns of a secret: as printed, as a JSON string holds it, and as JSON quoted in JSON
 * holds it. Each unit is spelled independently, so mixed spellings match too; the levels are not
 * mixed, so that whatever matches decodes to the secret.
 */
function patternsOf(secret: string): Pattern[] {
  const units = secret.split("");
  const twice = units.map(spelledTwice);
  // Then the printed and once-escaped spellings are among the twice-escaped ones.
  if (units.every(rawInJson)) return [twice];
  return [twice, units.map(spelledOnce), units.map(spelledAsIs)];
}

/** A RegExp source for one spelling. */
function spellingSource(spelling: Spelling): string {
  return spelling
    .map((atom) =>
      atom.length === 1 ? atom.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&") : `[${atom}]`,
    )
    .join("");
}

/** Every spelling of `unit` in any of {@link patternsOf}. */
const spelledAnyhow = remembered((unit) =>
  rawInJson(unit) ? escapedTwice(unit) : [...escapedTwice(unit), ...escapedOnce(unit), [unit]],
);

/** A RegExp source matching any spelling of `unit`. */
const unitSource = remembered((unit) => `(?:${spelledAnyhow(unit).map(spellingSource).join("|")})`);

/** A RegExp source matching the beginning of any spelling of `secret`. */
function candidateSource(secret: string): string {
  return secret.slice(0, CANDIDATE_UNITS).split("").map(unitSource).join("");
}

/** RegExps that together find every place where one of `secrets` may start. */
function candidateSearches(secrets: readonly string[]): RegExp[] {
  const groups: Set<string>[] = [];
  let size = 0;
  for (const source of new Set(secrets.map(candidateSource))) {
    let group = groups.at(-1);
    if (group === undefined || size + source.length > MAX_SEARCH_SOURCE) {
      group = new Set();
      groups.push(group);
      size = 0;
    }
    group.add(source);
    size += source.length + 1;
  }
  return groups.map((group) => new RegExp([...group].join("|"), "g"));
}

/** 1 for every character a spelling of one of `secrets` may hold. */
function alphabetOf(secrets: readonly string[]): Uint8Array {
  const alphabet = new Uint8Array(0x10000);
  for (const unit of new Set(secrets.join("").split(""))) {
    for (const atom of spelledAnyhow(unit).flat()) {
      for (const char of atom.split("")) alphabet[char.charCodeAt(0)] = 1;
    }
  }
  return alphabet;
}

/** Every way to write `spelling` out, one for each choice of case of its hex digits. */
function writtenOut(spelling: Spelling): string[] {
  return spelling.reduce<string[]>(
    (prefixes, atom) => prefixes.flatMap((prefix) => atom.split("").map((char) => prefix + char)),
    [""],
  );
}

/** `patterns` by each way their first character can be written. */
function byFirstSpelling(patterns: readonly Pattern[]): Map<string, Pattern[]> {
  const index = new Map<string, Pattern[]>();
  for (const pattern of patterns) {
    for (const written of (pattern[0] ?? []).flatMap(writtenOut)) {
      const starting = index.get(written);
      if (starting === undefined) index.set(written, [pattern]);
      else starting.push(pattern);
    }
  }
  return index;
}

/** The length of the longest spelling of any of `patterns`. */
function longestSpelling(patterns: readonly Pattern[]): number {
  const longest = (spellings: readonly Spelling[]) => Math.max(...spellings.map((s) => s.length));
  return Math.max(0, ...patterns.map((pattern) => pattern.reduce((sum, u) => sum + longest(u), 0)));
}

/** {@link matchAt}'s answer when `text` does not hold the pattern there. */
const NO_MATCH = -1;
/** {@link matchAt}'s answer when `text` ends inside a spelling of the pattern. */
const CUT_OFF = -2;

/** Where a spelling of one unit that starts at `at` ends, or NO_MATCH or CUT_OFF. */
function spellingEnd(spellings: readonly Spelling[], text: string, at: number): number {
  let cutOff = false;
  for (const spelling of spellings) {
    let length = 0;
    while (length < spelling.length && at + length < text.length) {
      if (!(spelling[length] as Atom).includes(text[at + length] as string)) break;
      length++;
    }
    // No spelling of a unit is the beginning of another, so the first that matches is the one.
    if (length === spelling.length) return at + length;
    if (at + length === text.length) cutOff = true;
  }
  return cutOff ? CUT_OFF : NO_MATCH;
}

/** Where a spelling of `pattern` that starts at `at` ends, or NO_MATCH or CUT_OFF. */
function matchAt(pattern: Pattern, text: string, at: number): number {
  let end = at;
  for (const spellings of pattern) {
    end = spellingEnd(spellings, text, end);
    if (end < 0) return end;
  }
  return end;
}

/** Whether `text` ends inside a spelling of one of `patterns` that starts at `at`. */
function cutOffAt(patterns: readonly Pattern[], text: string, at: number): boolean {
  return patterns.some((pattern) => matchAt(pattern, text, at) === CUT_OFF);
}

/** Whether an odd number of backslashes stands right before `at`, making `text[at]` escaped. */
function escapedAt(text: string, at: number): boolean {
  let start = at;
  while (start > 0 && text[start - 1] === "\\") start--;
  return (at - start) % 2 === 1;
}

/**
 * Replaces known secret values in text and streams: as printed, and in any JSON spelling of each
 * of their characters (`\"`, `\n`, `\u002d`, `\u002D`…), once or twice escaped.
 */
export class Redactor {
  private readonly searches: RegExp[];
  private readonly patterns: Pattern[];
  /** The secret each pattern spells. */
  private readonly secretOf: Map<Pattern, string>;
  /** The longest spelling of any secret: no longer tail can be the beginning of one. */
  readonly longestSpelling: number;
  /** The longest spelling of what the candidate searches look at. */
  private readonly longestCandidate: number;
  /**
   * The patterns by how their first character is written: where a secret may start, only the
   * few written that way there need checking, however many secrets there are.
   */
  private readonly starting: Map<string, Pattern[]>;
  /** The lengths of the keys of {@link starting}. */
  private readonly firstSpellingLengths: number[];
  /** 1 for every character a spelling of a secret may hold. */
  private readonly alphabet: Uint8Array;

  /** `secrets` are taken as given: deciding what is secret enough is the caller's job. */
  constructor(secrets: Iterable<string>) {
    const unique = [...new Set(secrets)].filter((secret) => secret !== "");
    this.searches = candidateSearches(unique);
    this.secretOf = new Map(
      unique.flatMap((secret) => patternsOf(secret).map((pattern) => [pattern, secret] as const)),
    );
    this.patterns = [...this.secretOf.keys()];
    this.longestSpelling = longestSpelling(this.patterns);
    this.longestCandidate = longestSpelling(
      this.patterns.map((pattern) => pattern.slice(0, CANDIDATE_UNITS)),
    );
    this.starting = byFirstSpelling(this.patterns);
    this.firstSpellingLengths = [...new Set([...this.starting.keys()].map((key) => key.length))];
    this.alphabet = alphabetOf(unique);
  }

  /** Whether there is anything to redact at all. */
  get active(): boolean {
    return this.patterns.length > 0;
  }

  /** A copy of `text` with every secret replaced. */
  redact(text: string): string {
    return this.active ? this.redactFrom(text, 0, false).redacted : text;
  }

  /** A stream that redacts what passes through it, also across chunk boundaries. */
  stream(): Transform {
    const decoder = new StringDecoder("utf8");
    // `before` stands for what was passed on already, as far as it matters: whether it ends in
    // an odd number of backslashes, which escape the first character of `pending`.
    let before = "";
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
        const text = before + pending + decoder.write(chunk);
        const { redacted, held } = redactor.redactFrom(text, before.length, true);
        before = escapedAt(text, held) ? "\\" : "";
        pending = text.slice(held);
        done(null, redacted);
      },
      flush(done: TransformCallback) {
        if (!redactor.active) {
          done();
          return;
        }
        const text = before + pending + decoder.end();
        done(null, redactor.redactFrom(text, before.length, false).redacted);
      },
    });
  }

  /**
   * An excerpt of a longer text with every secret replaced: `text` from `from` on, where what
   * comes before `from` is the text just before the excerpt, there only so that a secret the
   * excerpt starts inside of is found whole. A tail that may be the beginning of a secret cut off
   * by the excerpt's end is replaced too: half a secret is still a secret.
   */
  redactExcerpt(text: string, from: number): string {
    if (!this.active) return text.slice(from);
    let redacted = "";
    let at = from;
    // The end of the last secret replaced, the text before the excerpt included.
    let reached = 0;
    for (const { start, end } of this.secretsIn(text, 0, text.length)) {
      // One that overlaps a secret already replaced loses to it, as in a left-to-right scan.
      if (start < reached) continue;
      reached = end;
      if (end <= from) continue;
      redacted += `${text.slice(at, Math.max(at, start))}${REDACTED}`;
      at = end;
    }
    const cut = this.cutOffFrom(text, at);
    return `${redacted}${text.slice(at, cut)}${cut < text.length ? REDACTED : ""}`;
  }

  /**
   * The secrets `text` holds, in any spelling {@link redact} replaces: for deciding what to do
   * with a text, never for showing. A secret cut off by the end of `text` is not found.
   */
  found(text: string): string[] {
    const found = new Set<string>();
    for (const start of this.startsIn(text, 0, text.length)) {
      for (const pattern of this.startingAt(text, start)) {
        if (matchAt(pattern, text, start) > start) found.add(this.secretOf.get(pattern) as string);
      }
    }
    return [...found];
  }

  /**
   * `text` from `from` on with every secret replaced, up to `held`: the end of `text`, or with
   * `holdBack`, where a tail starts that could be the beginning of a secret cut off by the end.
   */
  private redactFrom(
    text: string,
    from: number,
    holdBack: boolean,
  ): { redacted: string; held: number } {
    let redacted = "";
    let at = from;
    let held = holdBack ? this.cutOffFrom(text, at) : text.length;
    for (;;) {
      for (const { start, end } of this.secretsIn(text, at, held)) {
        // One that overlaps a secret already replaced loses to it, as in a left-to-right scan.
        if (start < at) continue;
        redacted += `${text.slice(at, start)}${REDACTED}`;
        at = end;
      }
      // A secret found whole may reach past the tail held back; what follows it is looked at anew.
      if (at <= held) break;
      held = this.cutOffFrom(text, at);
    }
    return { redacted: redacted + text.slice(at, held), held };
  }

  /**
   * Every place in `text` from `from` up to `until` where a secret starts, with the end of its
   * longest spelling there, in order (the longest first where several start at one place).
   */
  private secretsIn(text: string, from: number, until: number): { start: number; end: number }[] {
    const found: { start: number; end: number }[] = [];
    for (const start of this.startsIn(text, from, until)) {
      const patterns = this.startingAt(text, start);
      const end = Math.max(...patterns.map((pattern) => matchAt(pattern, text, start)));
      if (end > start) found.push({ start, end });
    }
    return found.sort((a, b) => a.start - b.start || b.end - a.end);
  }

  /** The places in `text` from `from` up to `until` where the candidate searches say a secret may start. */
  private startsIn(text: string, from: number, until: number): number[] {
    const starts: number[] = [];
    for (const candidates of this.searches) {
      candidates.lastIndex = from;
      for (let hit = candidates.exec(text); hit && hit.index < until; hit = candidates.exec(text)) {
        const start = hit.index;
        candidates.lastIndex = start + 1;
        // An escape that starts on the second backslash of `\\` is not one: leaving it keeps the
        // redacted JSON valid, and the secret is still found where the escape really starts.
        if (text[start] === "\\" && escapedAt(text, start)) continue;
        starts.push(start);
      }
    }
    return starts;
  }

  /** Where the first tail of `text` (from `from` on) starts that a secret's spelling continues. */
  private cutOffFrom(text: string, from: number): number {
    // Such a tail holds only characters of spellings, and is no longer than the longest: most
    // chunks end in a newline, and then there is nothing to look at.
    let start = text.length;
    const limit = Math.max(from, text.length - this.longestSpelling);
    while (start > limit && this.alphabet[text.charCodeAt(start - 1)] === 1) start--;
    // Further from the end, such a tail holds the first characters of its secret whole, so the
    // candidate searches find it; only the last few places need checking one by one. That keeps
    // a long secret (a PEM key) from making every chunk cost its length squared.
    const near = Math.max(start, text.length - this.longestCandidate);
    let first = near;
    for (const candidates of this.searches) {
      candidates.lastIndex = start;
      for (let hit = candidates.exec(text); hit && hit.index < first; hit = candidates.exec(text)) {
        if (cutOffAt(this.startingAt(text, hit.index), text, hit.index)) {
          first = hit.index;
          break;
        }
        candidates.lastIndex = hit.index + 1;
      }
    }
    if (first < near) return first;
    for (let at = near; at < text.length; at++) {
      if (cutOffAt(this.startingAt(text, at), text, at)) return at;
    }
    return text.length;
  }

  /** The patterns whose first character is, or may be, written at `at`. */
  private startingAt(text: string, at: number): readonly Pattern[] {
    // Only escapes are longer than one character, and they all begin with a backslash.
    if (text[at] !== "\\") return this.starting.get(text[at] as string) ?? [];
    // Where the end of the text cuts an escape short, it may still become any character.
    if (at + Math.max(...this.firstSpellingLengths) > text.length) return this.patterns;
    return this.firstSpellingLengths.flatMap(
      (length) => this.starting.get(text.slice(at, at + length)) ?? [],
    );
  }
}
