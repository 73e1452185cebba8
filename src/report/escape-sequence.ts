/**
 * A terminal escape sequence as terminals read it: CSI (`ESC [` … final byte), OSC (`ESC ]` … BEL
 * or `ESC \`, or the end of the text: a terminal swallows what follows an unfinished one), the
 * short ones (`ESC c`, `ESC ( B`), and an ESC that starts none of them.
 */
export const ESCAPE_SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matches terminal escape sequences
  /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\|$)|[ -/]*[0-~])?/;
