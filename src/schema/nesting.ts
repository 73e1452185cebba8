/**
 * How deep a YAML text nests flow collections (`[…]`, `{…}`) before the parser sees it. The YAML
 * parser recurses once per level: thousands of levels exhaust the stack, and V8 may then abort
 * the whole process (a regular expression compiled at that depth fails as "out of memory")
 * instead of throwing. No conductor.yaml needs more than a handful of levels.
 */
export const MAX_FLOW_DEPTH = 256;

/**
 * The offset at which `text` first opens a flow collection deeper than `limit`, or -1. Quoted
 * scalars and comments are skipped; brackets in plain text count, which errs on the side of
 * refusing a file no person would write.
 */
export function tooDeepAt(text: string, limit = MAX_FLOW_DEPTH): number {
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === "[" || char === "{") {
      depth++;
      if (depth > limit) return index;
    } else if (char === "]" || char === "}") {
      depth = Math.max(0, depth - 1);
    } else if (char === '"' || char === "'") {
      index = closingQuote(text, index);
    } else if (char === "#" && (index === 0 || /\s/.test(text[index - 1] ?? ""))) {
      const end = text.indexOf("\n", index);
      index = end === -1 ? text.length : end;
    }
  }
  return -1;
}

/** Where the quoted scalar opened at `start` ends (its closing quote, or the end of the text). */
function closingQuote(text: string, start: number): number {
  const quote = text[start];
  for (let index = start + 1; index < text.length; index++) {
    if (quote === '"' && text[index] === "\\") index++;
    else if (text[index] === quote) {
      // '' inside a single-quoted scalar is an escaped quote.
      if (quote === "'" && text[index + 1] === "'") index++;
      else return index;
    }
  }
  return text.length;
}
