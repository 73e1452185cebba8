/** Quotes one word for a POSIX shell, so a printed command can be pasted as it is. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_/.:@%+=,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line of quoted words. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}
