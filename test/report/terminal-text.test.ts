import { describe, expect, it } from "vitest";
import { TerminalText } from "../../src/report/terminal-text.js";

const ESC = "\u001b";
const BEL = "\u0007";

/** Everything shown for `chunks` fed one after another. */
function shown(...chunks: (string | Buffer)[]): string {
  const screen = new TerminalText();
  return chunks.map((chunk) => screen.push(chunk)).join("") + screen.end();
}

describe("TerminalText", () => {
  it("keeps text, tabs, line ends and colours", () => {
    const text = `a\tb\r\nc ${ESC}[1;31mred${ESC}[0m é ✔\n`;
    expect(shown(text)).toBe(text);
  });

  it("drops what acts on the terminal: clipboard, title, cursor, screen, C1 and other controls", () => {
    const hostile = [
      `${ESC}]52;c;cm0gLXJmIH4=${BEL}`, // write the clipboard
      `${ESC}]0;pwned${ESC}\\`, // set the title
      `${ESC}[2J${ESC}[H`, // clear the screen, cursor home
      `${ESC}[6n`, // ask the terminal to type its cursor position
      `\u009b31m`, // a C1 CSI
      `${ESC}c`, // reset
      "\u0000\u0008\u007f",
    ].join("");
    expect(shown(`before ${hostile}after\n`)).toBe("before 31mafter\n");
  });

  it("waits for a sequence cut by a chunk's end", () => {
    expect(shown("x", `${ESC}[3`, "1mred", `${ESC}]52;c;aGk=`, `${BEL}y`)).toBe(`x${ESC}[31mredy`);
    expect(shown(`z${ESC}`, "[2Jz")).toBe("zz");
  });

  it("decodes bytes across chunks, and drops a sequence that never ends", () => {
    const bytes = Buffer.from("é✔");
    expect(shown(bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3))).toBe("é✔");
    expect(shown(`ok${ESC}]0;never ended`)).toBe("ok");
  });
});
