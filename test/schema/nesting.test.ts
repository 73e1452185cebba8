import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { parseConfig } from "../../src/schema/load.js";
import { tooDeepAt } from "../../src/schema/nesting.js";

const encode = (text: string) => new TextEncoder().encode(text);

describe("deeply nested YAML", () => {
  it("is refused at the bracket that goes too deep, before the parser recurses into it", () => {
    const text = `version: 1\ntasks: ${"[".repeat(5000)}x${"]".repeat(5000)}\n`;
    let error: unknown;
    try {
      parseConfig(encode(text), "conductor.yaml");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const [issue] = (error as ConfigError).issues;
    expect(issue).toMatchObject({
      file: "conductor.yaml",
      line: 2,
      column: "tasks: ".length + 257,
    });
    expect(issue?.message).toContain("more than 256 levels deep");
  });

  it("leaves nesting a person could write to the parser", () => {
    expect(tooDeepAt(`a: ${"{b: ".repeat(200)}x${"}".repeat(200)}`)).toBe(-1);
  });

  it("does not count brackets in quoted text or comments", () => {
    const brackets = "[".repeat(300);
    expect(tooDeepAt(`a: "${brackets}"\nb: '${brackets}'' ${brackets}'\n# ${brackets}\n`)).toBe(-1);
    expect(tooDeepAt(`a: "\\" ${brackets}"`)).toBe(-1);
  });
});
