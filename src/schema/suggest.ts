import { closest, distance } from "fastest-levenshtein";

/** The known word closest to `word`, when it is close enough to be a likely typo. */
export function didYouMean(word: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(word, [...known]);
  const limit = Math.max(2, Math.floor(best.length / 3));
  const edits = distance(word.toLowerCase(), best.toLowerCase());
  // Replacing every character of a short word ("zz" → "a") is not a typo.
  return edits <= limit && edits < Math.max(word.length, best.length) ? best : undefined;
}

/** ` Did you mean "x"?` or an empty string. */
export function didYouMeanSuffix(word: string, known: readonly string[]): string {
  const suggestion = didYouMean(word, known);
  return suggestion === undefined ? "" : ` Did you mean "${suggestion}"?`;
}
