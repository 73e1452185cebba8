import { describe, expect, it } from "vitest";
import { claudeArguments } from "../../src/agents/claude/agent.js";
import { claudeReviewArguments } from "../../src/agents/claude/review.js";
import { codexReviewArguments } from "../../src/agents/codex/review.js";
import { judgeSettings } from "../../src/executor/selection/judge.js";
import type { AgentConfig } from "../../src/schema/config.js";

const SETTINGS: AgentConfig = {
  kind: "codex",
  model: "m1",
  sandbox: "danger-full-access",
  args: ["--dangerously-bypass-approvals-and-sandbox"],
  config: { sandbox_mode: '"danger-full-access"', model_provider: '"x"' },
  command: undefined,
  timeoutMs: 60_000,
  connectTimeoutMs: 60_000,
  idleTimeoutMs: undefined,
};

describe("reviewer command lines", () => {
  it("codex reviews against the start commit, read-only whatever the config says, guidance as developer instructions", () => {
    const args = codexReviewArguments(SETTINGS, "/ws/a", "abc123", 'Say "why".\nTwo lines.');
    expect(args).toEqual([
      "exec",
      "--json",
      "--cd",
      "/ws/a",
      "review",
      "-m",
      "m1",
      "-c",
      'sandbox_mode="danger-full-access"',
      "-c",
      'model_provider="x"',
      "-c",
      'developer_instructions="Say \\"why\\".\\nTwo lines."',
      "-c",
      'sandbox_mode="read-only"',
      "--base",
      "abc123",
    ]);
    // agent.args belong to the implementing session: none of them reach the reviewer.
    expect(args).not.toContain("--dangerously-bypass-approvals-and-sandbox");
  });

  it("claude reviews in plan mode with read-only tools and no agent.args", () => {
    const args = claudeReviewArguments({ ...SETTINGS, kind: "claude" }, "review this");
    expect(args).toContain("--permission-mode");
    expect(args[args.indexOf("--permission-mode") + 1]).toBe("plan");
    const tools = args[args.indexOf("--allowedTools") + 1]?.split(",") ?? [];
    expect(tools).not.toContain("Edit");
    expect(tools).not.toContain("Write");
    expect(tools).not.toContain("Bash");
    expect(args).not.toContain("--dangerously-bypass-approvals-and-sandbox");
    expect(args.slice(-2)).toEqual(["--", "review this"]);
  });

  it("a claude judge runs in plan mode with read-only tools and no agent.args", () => {
    const settings = judgeSettings({ ...SETTINGS, kind: "claude" }, "/run/schema.json");
    const args = claudeArguments(settings as AgentConfig, "judge this", undefined);
    expect(args[args.indexOf("--permission-mode") + 1]).toBe("plan");
    const tools = args[args.indexOf("--allowedTools") + 1]?.split(",") ?? [];
    expect(tools).toEqual(["Read", "Glob", "Grep"]);
    expect(args).not.toContain("--dangerously-bypass-approvals-and-sandbox");
    expect(args.slice(-2)).toEqual(["--", "judge this"]);
  });
});
