import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from "yaml";

/** A key path into the parsed document: map keys and sequence indexes. */
export type KeyPath = readonly (string | number)[];

/** 1-based position in the source. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** Formats a key path the way users read it: `tasks[2].depends_on[0]`. */
export function formatKeyPath(keyPath: KeyPath): string {
  let text = "";
  for (const segment of keyPath) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? segment : `.${segment}`;
  }
  return text;
}

/**
 * Finds where `keyPath` is written. With `at: "key"` it points at the key itself (for unknown keys);
 * otherwise at the value. When the path does not exist (a missing required key) it points at the
 * deepest node that does, so the user still lands in the right place.
 */
export function locate(
  doc: Document,
  lineCounter: LineCounter,
  keyPath: KeyPath,
  at: "key" | "value" = "value",
): SourcePosition {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [index, segment] of keyPath.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
      if (!pair) break;
      const keyOffset = rangeStart(pair.key);
      const valueOffset = rangeStart(pair.value);
      const isLast = index === keyPath.length - 1;
      offset = (at === "key" && isLast ? keyOffset : (valueOffset ?? keyOffset)) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
