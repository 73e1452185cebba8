// Which provider codex and claude will talk to, read from the same places they read it.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { claudeBaseUrl, codexProvider, redactUrl } from "../../src/agents/provider.js";
import type { AgentConfig } from "../../src/schema/config.js";
import { tempDirForTest } from "../helpers/temp-homes.js";

const settings: AgentConfig = {
  kind: "codex",
  model: undefined,
  sandbox: "workspace-write",
  args: [],
  config: {},
  command: undefined,
  timeoutMs: 60_000,
  connectTimeoutMs: 60_000,
  idleTimeoutMs: undefined,
};

async function codexHome(configToml?: string): Promise<string> {
  const dir = tempDirForTest("conductor-provider-");
  if (configToml !== undefined) await writeFile(path.join(dir, "config.toml"), configToml);
  return dir;
}

describe("codex's provider", () => {
  it("is OpenAI's built-in one by default, at OPENAI_BASE_URL when set", async () => {
    const home = await codexHome();
    expect(await codexProvider(settings, { CODEX_HOME: home })).toMatchObject({
      id: "openai",
      baseUrl: "https://api.openai.com/v1",
      source: "built-in",
      requiresOpenaiAuth: true,
    });
    const moved = await codexProvider(settings, {
      CODEX_HOME: home,
      OPENAI_BASE_URL: "https://proxy.example/v1",
    });
    expect(moved.baseUrl).toBe("https://proxy.example/v1");
  });

  it("comes from agent.config as an inline table or as dotted keys", async () => {
    const home = await codexHome();
    const inline = await codexProvider(
      {
        ...settings,
        config: {
          model_provider: '"corp"',
          "model_providers.corp":
            '{ name = "corp", base_url = "http://h:1/v1", env_key = "CORP_KEY" }',
        },
      },
      { CODEX_HOME: home },
    );
    expect(inline).toMatchObject({
      id: "corp",
      baseUrl: "http://h:1/v1",
      source: "agent.config",
      envKey: "CORP_KEY",
      requiresOpenaiAuth: false,
    });
    const dotted = await codexProvider(
      {
        ...settings,
        config: { model_provider: "corp", "model_providers.corp.base_url": '"http://h:2/v1"' },
      },
      { CODEX_HOME: home },
    );
    expect(dotted).toMatchObject({ id: "corp", baseUrl: "http://h:2/v1", envKey: undefined });
  });

  it("comes from CODEX_HOME/config.toml, a profile in it, or -c and --profile in agent.args", async () => {
    const home = await codexHome(
      [
        'model_provider = "a"',
        "[model_providers.a]",
        'base_url = "http://a/v1"',
        "[model_providers.b]",
        'base_url = "http://b/v1"',
        'env_key = "B_KEY"',
        "[profiles.work]",
        'model_provider = "b"',
      ].join("\n"),
    );
    const env = { CODEX_HOME: home };
    expect(await codexProvider(settings, env)).toMatchObject({
      id: "a",
      baseUrl: "http://a/v1",
      source: "config.toml",
    });
    expect(await codexProvider({ ...settings, args: ["--profile", "work"] }, env)).toMatchObject({
      id: "b",
      envKey: "B_KEY",
    });
    expect(
      await codexProvider({ ...settings, args: ["-c", 'model_provider="b"'] }, env),
    ).toMatchObject({ id: "b", baseUrl: "http://b/v1" });
  });

  it("says when config.toml is not valid TOML", async () => {
    const home = await codexHome("model_provider = ");
    const provider = await codexProvider(settings, { CODEX_HOME: home });
    expect(provider.configProblem).toContain(path.join(home, "config.toml"));
  });
});

describe("provider URLs in messages", () => {
  it("lose user names, passwords and query values", () => {
    expect(redactUrl("https://me:secret@h.example/v1?api-key=k&x=1")).toBe(
      "https://***:***@h.example/v1?api-key=***&x=***",
    );
    expect(redactUrl("http://127.0.0.1:9/v1")).toBe("http://127.0.0.1:9/v1");
  });

  it("for claude, are ANTHROPIC_BASE_URL or Anthropic's API", () => {
    expect(claudeBaseUrl({})).toBe("https://api.anthropic.com/");
    expect(claudeBaseUrl({ ANTHROPIC_BASE_URL: "http://t:pw@127.0.0.1:5" })).toBe(
      "http://***:***@127.0.0.1:5/",
    );
  });
});
