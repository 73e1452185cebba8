import { describe, expect, it } from "vitest";
import {
  describeActivity,
  describeFailure,
  firstLine,
  formatDiff,
  formatTokens,
  oneLine,
  stripAnsi,
  totalTokens,
} from "../../src/report/format.js";
import { usage } from "./fixtures.js";

describe("report formatting", () => {
  it("strips escape sequences as a terminal reads them, as the log filter does", () => {
    // Colours, a title (OSC ended by BEL and by ST), save-cursor (ESC 7), an ESC that starts no
    // sequence, and an OSC never ended, which a terminal would swallow to the end.
    const text =
      "\u001b[31mred\u001b[0m \u001b]0;title\u0007a \u001b]2;t\u001b\\b \u001b7c \u001b\nd \u001b]52;c;aGk=";
    expect(stripAnsi(text)).toBe("red a b c \nd ");
  });

  it("writes token counts compactly", () => {
    expect(formatTokens(0)).toBe("0");
    expect(formatTokens(999)).toBe("999");
    expect(formatTokens(1000)).toBe("1k");
    expect(formatTokens(12_345)).toBe("12.3k");
    expect(formatTokens(99_999)).toBe("100k");
    expect(formatTokens(123_456)).toBe("123k");
    expect(formatTokens(999_999)).toBe("1M");
    expect(formatTokens(4_560_000)).toBe("4.6M");
  });

  it("counts input and output tokens, not the cached and reasoning parts twice", () => {
    expect(
      totalTokens({
        inputTokens: 100,
        cachedInputTokens: 80,
        outputTokens: 20,
        reasoningTokens: 15,
      }),
    ).toBe(120);
    expect(totalTokens(undefined)).toBe(0);
    expect(totalTokens(usage(1, 2))).toBe(3);
  });

  it("describes agent activity the way the live and plain views show it", () => {
    expect(describeActivity({ kind: "command", command: "npm test", exitCode: undefined })).toBe(
      "running npm test",
    );
    expect(describeActivity({ kind: "command", command: "npm test", exitCode: 0 })).toBe(
      "ran npm test (exit 0)",
    );
    expect(describeActivity({ kind: "file-change", paths: ["src/app.ts"] })).toBe(
      "editing src/app.ts",
    );
    expect(describeActivity({ kind: "file-change", paths: [] })).toBe("editing files");
    expect(describeActivity({ kind: "reasoning", text: "**Planning** the change" })).toBe(
      "thinking: **Planning** the change",
    );
    expect(describeActivity({ kind: "usage", usage: usage(12_000, 300) })).toBe("12.3k tokens");
    expect(describeActivity({ kind: "warning", message: "model metadata not found" })).toBe(
      "warning: model metadata not found",
    );
    expect(describeActivity({ kind: "error", message: "stream disconnected" })).toBe(
      "error: stream disconnected",
    );
    expect(describeActivity({ kind: "session", sessionId: "t1" })).toBe("session t1");
  });

  it("says why a step failed in a few words", () => {
    expect(
      describeFailure({ reason: "signal", step: "agent", message: "x", signal: "SIGKILL" }),
    ).toBe("agent killed by SIGKILL");
    expect(
      describeFailure({ reason: "timeout", step: "setup", message: "x", timeoutMs: 1_800_000 }),
    ).toBe("setup timed out after 30m00s");
    expect(describeFailure({ reason: "spawn-error", step: "check", message: "ENOENT: sh" })).toBe(
      "check could not start: ENOENT: sh",
    );
    expect(
      describeFailure({ reason: "git-error", step: "commit", message: "index.lock exists\nmore" }),
    ).toBe("commit: git error: index.lock exists …");
    expect(
      describeFailure({ reason: "conflict", step: "worktree", message: "branch exists" }),
    ).toBe("worktree: branch exists");
    expect(describeFailure({ reason: "io-error", step: "copy", message: "ENOSPC" })).toBe(
      "copy: ENOSPC",
    );
    expect(describeFailure({ reason: "cancelled", step: "agent", message: "x" })).toBe(
      "agent cancelled",
    );
  });

  it("makes program output safe for one line", () => {
    expect(oneLine("a\u001b[1;31m b\u001b]0;title\u0007\n\tc\u0000")).toBe("a b c");
    expect(oneLine("x".repeat(10), 5)).toBe("xxxx…");
    expect(firstLine("one\ntwo")).toBe("one …");
    expect(firstLine("  only  ")).toBe("only");
  });

  it("writes a diff stat in one cell", () => {
    expect(formatDiff({ files: 1, insertions: 2, deletions: 0 })).toBe("1 file +2 −0");
    expect(formatDiff(undefined)).toBe("-");
  });
});
