// parseConfig reports every problem of a file in one go: schema problems and cross-field rules
// together, without follow-up noise, each at the right line and column.
import { describe, expect, it } from "vitest";
import { ConfigError, type ConfigIssue } from "../../src/errors.js";
import { parseConfig } from "../../src/schema/load.js";

function issuesOf(
  text: string | Uint8Array,
): Pick<ConfigIssue, "line" | "column" | "keyPath" | "message">[] {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  try {
    parseConfig(bytes, "conductor.yaml");
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.issues.map(({ line, column, keyPath, message }) => ({
        line,
        column,
        keyPath,
        message,
      }));
    }
    throw error;
  }
  throw new Error("expected the config to be refused");
}

const keyPaths = (text: string) => issuesOf(text).map((issue) => issue.keyPath);

describe("collecting every problem", () => {
  it("checks dependencies and ids even when the schema already failed", () => {
    expect(
      keyPaths(`version: 1
fail_fast: maybe
tasks:
  - id: a
    prompt: x
    depends_on: [missing]
  - id: a
    prompt: x
`),
    ).toEqual(["fail_fast", "tasks[0].depends_on[0]", "tasks[1].id"]);
  });

  it("does not add 'needs a prompt' to a misspelt prompt key", () => {
    const issues = issuesOf("version: 1\ntasks:\n  - id: a\n    promt: x\n");
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toContain('Did you mean "prompt"?');
  });

  it("still knows the ids of tasks that have other problems", () => {
    expect(
      keyPaths(`version: 1
tasks:
  - id: a
    prompt: x
    attempts: many
  - id: b
    prompt: x
    depends_on: [a]
`),
    ).toEqual(["tasks[0].attempts"]);
  });

  it("does not report matrix placeholders as unknown when the matrix itself is invalid", () => {
    expect(
      keyPaths(`version: 1
env:
  MODEL: "{{matrix.model}}"
tasks:
  - id: a
    prompt: Use {{matrix.model}}.
    matrix:
      model: []
`),
    ).toEqual(["tasks[0].matrix.model"]);
  });

  it("reports a cycle next to schema problems", () => {
    const issues = issuesOf(`version: 1
retries: 99
tasks:
  - id: a
    prompt: x
    depends_on: [b]
  - id: b
    prompt: x
    depends_on: [a]
`);
    expect(issues.map((issue) => issue.keyPath)).toEqual(["retries", "tasks[1].depends_on[0]"]);
    expect(issues[1]?.message).toContain("dependency cycle: a → b → a");
  });
});

describe("messages", () => {
  it("explain a reserved env name with its rule, at the key", () => {
    expect(
      issuesOf("version: 1\nenv:\n  CONDUCTOR_X: 1\ntasks:\n  - id: a\n    prompt: x\n"),
    ).toEqual([
      {
        line: 3,
        column: 3,
        keyPath: "env.CONDUCTOR_X",
        message:
          '"CONDUCTOR_X" is not allowed here: environment variable names are letters, digits and _, not starting with a digit or CONDUCTOR_ (reserved)',
      },
    ]);
  });

  it("say which kinds of value fit where several do", () => {
    expect(
      issuesOf("version: 1\nworkspaces:\n  copy: [5]\ntasks:\n  - id: a\n    prompt: x\n")[0]
        ?.message,
    ).toBe("must be a string or a map of keys to values, not number 5");
    expect(
      issuesOf("version: 1\nenv:\n  A: [1]\ntasks:\n  - id: a\n    prompt: x\n")[0]?.message,
    ).toBe("must be a string, a number or a boolean, not a list");
  });

  it("call a record a map", () => {
    expect(
      issuesOf("version: 1\ntasks:\n  - id: a\n    prompt: x\n    matrix: [a]\n")[0]?.message,
    ).toBe("must be a map of keys to values, not a list");
  });

  it("do not suggest the value that was written", () => {
    expect(issuesOf('version: "1"\ntasks:\n  - id: a\n    prompt: x\n')[0]?.message).toBe(
      'must be 1 (the only config version so far), not the string "1".',
    );
  });

  it("do not suggest an unrelated id for a short typo", () => {
    const message = issuesOf(
      "version: 1\ntasks:\n  - id: a\n    prompt: x\n    depends_on: [zz]\n",
    )[0]?.message;
    expect(message).toBe('depends on "zz", which is not a task id.');
  });
});

describe("binary files", () => {
  it("point at the first NUL byte", () => {
    const bytes = new TextEncoder().encode("version: 1\ntasks:\n  - id: a\0\n");
    expect(issuesOf(bytes)[0]).toMatchObject({ line: 3, column: 10 });
  });

  it("point at the first invalid UTF-8 byte, before a later NUL", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode("version: 1\nx: é"), 0xff, 0x0a, 0]);
    expect(issuesOf(bytes)[0]).toMatchObject({ line: 2, column: 5 });
  });

  it("accept a U+FFFD character written in the text", () => {
    expect(() =>
      parseConfig(
        new TextEncoder().encode("version: 1\ntasks:\n  - id: a\n    prompt: Replace � with ?.\n"),
        "conductor.yaml",
      ),
    ).not.toThrow();
  });
});
