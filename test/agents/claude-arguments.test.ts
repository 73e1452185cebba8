import { accessSync, constants } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { claudeArguments } from "../../src/agents/claude/agent.js";
import { resolveClaudeProgram } from "../../src/agents/claude/program.js";
import type { AgentConfig } from "../../src/schema/config.js";

const settings: AgentConfig = {
  kind: "claude",
  model: undefined,
  sandbox: "workspace-write",
  args: [],
  config: {},
  command: undefined,
  timeoutMs: 60_000,
  connectTimeoutMs: 60_000,
  idleTimeoutMs: undefined,
};

describe("claudeArguments", () => {
  it("starts a session with stream-json output, the default tools allowed, and the prompt after --", () => {
    expect(claudeArguments(settings, "fix the bug", undefined)).toEqual([
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--allowedTools",
      "Bash,Edit,Write,Read,Glob,Grep",
      "--",
      "fix the bug",
    ]);
  });

  it("passes the model, resumes a session and appends agent.args before the prompt", () => {
    const args = claudeArguments(
      { ...settings, model: "claude-sonnet", args: ["--max-turns", "5", "--add-dir", "../shared"] },
      "more please",
      "6856ba98-6887-4540-bea8-362691a90fe5",
    );

    expect(args).toEqual([
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--model",
      "claude-sonnet",
      "--resume",
      "6856ba98-6887-4540-bea8-362691a90fe5",
      "--allowedTools",
      "Bash,Edit,Write,Read,Glob,Grep",
      "--max-turns",
      "5",
      "--add-dir",
      "../shared",
      "--",
      "more please",
    ]);
  });

  it("allows only reading tools in a read-only sandbox", () => {
    const args = claudeArguments({ ...settings, sandbox: "read-only" }, "review", undefined);

    expect(args[args.indexOf("--allowedTools") + 1]).toBe("Read,Glob,Grep");
  });

  it("leaves the prompt out when it goes through stdin", () => {
    const args = claudeArguments(settings, undefined, undefined);

    expect(args).not.toContain("--");
    expect(args.at(-1)).toBe("Bash,Edit,Write,Read,Glob,Grep");
  });
});

describe("resolveClaudeProgram", () => {
  it("uses agent.command when set", () => {
    expect(resolveClaudeProgram("/opt/bin/claude")).toEqual({
      file: "/opt/bin/claude",
      args: [],
      source: "config",
    });
  });

  it("finds the package's native claude binary from its bin entry", () => {
    const program = resolveClaudeProgram(undefined, { PATH: "" });

    expect(program?.source).toBe("package");
    expect(program?.args).toEqual([]);
    expect(program?.file.split(path.sep).slice(-4)).toEqual([
      "@anthropic-ai",
      "claude-code",
      "bin",
      "claude.exe",
    ]);
    expect(() => accessSync(program?.file ?? "", constants.X_OK)).not.toThrow();
  });
});
