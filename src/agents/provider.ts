/**
 * Which model provider an agent talks to, as its own configuration says: codex's `model_provider`
 * (from `agent.config` / `agent.args` overrides, a profile, or `CODEX_HOME/config.toml`) and
 * claude's `ANTHROPIC_BASE_URL`. Used by preflight and doctor to tell which credentials are
 * needed, and by the stall watch to name the URL that could not be reached.
 */
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { AgentConfig } from "../schema/config.js";

/** The environment an agent runs with (conductor's own plus the workspace's). */
export type AgentEnv = Readonly<Record<string, string | undefined>>;

/** Where a codex provider setting came from, for messages. */
export type ProviderSource = "built-in" | "agent.config" | "config.toml";

/** A codex model provider as codex will use it. */
export interface CodexProvider {
  /** Its key under `model_providers` (`openai` for the default). */
  id: string;
  /** Base URL, credentials removed. */
  baseUrl: string;
  source: ProviderSource;
  /** Variable holding its API key (`env_key`), when it names one. */
  envKey: string | undefined;
  /** Whether it uses OpenAI's login (API key or ChatGPT sign-in) like the built-in provider. */
  requiresOpenaiAuth: boolean;
  /** Whether the configuration carries its own token (`experimental_bearer_token`). */
  hasToken: boolean;
  /** The CODEX_HOME in use. */
  codexHome: string;
  /** Why config.toml could not be read, when it exists but is not valid TOML. */
  configProblem: string | undefined;
}

/** Default OpenAI endpoint of codex's built-in provider. */
export const OPENAI_BASE_URL = "https://api.openai.com/v1";
/** Default endpoint of claude. */
export const ANTHROPIC_BASE_URL = "https://api.anthropic.com";

/** Codex's providers that need no configuration (`--oss` means `oss`). */
const BUILT_IN: Readonly<Record<string, { baseUrl: (env: AgentEnv) => string; openai: boolean }>> =
  {
    openai: { baseUrl: (env) => env.OPENAI_BASE_URL || OPENAI_BASE_URL, openai: true },
    oss: { baseUrl: () => "http://localhost:11434/v1", openai: false },
    ollama: { baseUrl: () => "http://localhost:11434/v1", openai: false },
    lmstudio: { baseUrl: () => "http://localhost:1234/v1", openai: false },
  };

/** The CODEX_HOME codex uses with this environment. */
export function codexHomeOf(env: AgentEnv): string {
  return env.CODEX_HOME || path.join(env.HOME || os.homedir(), ".codex");
}

/** Resolves the provider codex will use with these settings and this environment. */
export async function codexProvider(settings: AgentConfig, env: AgentEnv): Promise<CodexProvider> {
  const codexHome = codexHomeOf(env);
  const { parse } = await import("smol-toml");
  let file: Table = {};
  let configProblem: string | undefined;
  try {
    file = parse(await readFile(path.join(codexHome, "config.toml"), "utf8")) as Table;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") {
      configProblem = `${path.join(codexHome, "config.toml")}: ${firstLine((error as Error).message)}`;
    }
  }
  const overrides: Table = {};
  const flags = argumentOverrides(settings.args);
  for (const [key, value] of [...Object.entries(settings.config), ...flags.pairs]) {
    setPath(overrides, key.split("."), tomlValue(parse, String(value)));
  }
  const profileName = flags.profile ?? asString(overrides.profile) ?? asString(file.profile);
  const profileOf = (table: Table) =>
    profileName === undefined ? {} : asTable(asTable(table.profiles)[profileName]);
  const chosen =
    (flags.oss ? "oss" : undefined) ??
    asString(overrides.model_provider) ??
    asString(profileOf(overrides).model_provider) ??
    asString(profileOf(file).model_provider) ??
    asString(file.model_provider) ??
    "openai";
  const fromOverrides = asTable(asTable(overrides.model_providers)[chosen]);
  const fromFile = asTable(asTable(file.model_providers)[chosen]);
  const definition = { ...fromFile, ...fromOverrides };
  const builtIn = BUILT_IN[chosen];
  const baseUrl = asString(definition.base_url) ?? builtIn?.baseUrl(env) ?? OPENAI_BASE_URL;
  const source: ProviderSource =
    Object.keys(fromOverrides).length > 0 || overrides.model_provider !== undefined
      ? "agent.config"
      : Object.keys(fromFile).length > 0 || file.model_provider !== undefined
        ? "config.toml"
        : "built-in";
  const custom = Object.keys(definition).length > 0;
  return {
    id: chosen,
    baseUrl: redactUrl(baseUrl),
    source,
    envKey: asString(definition.env_key),
    requiresOpenaiAuth: custom
      ? definition.requires_openai_auth === true
      : (builtIn?.openai ?? true),
    hasToken: asString(definition.experimental_bearer_token) !== undefined,
    codexHome,
    configProblem,
  };
}

/** The endpoint claude talks to with this environment, credentials removed. */
export function claudeBaseUrl(env: AgentEnv): string {
  return redactUrl(env.ANTHROPIC_BASE_URL || ANTHROPIC_BASE_URL);
}

/**
 * The base URL of the provider an agent talks to, for messages; undefined for the command agent
 * or when it cannot be told.
 */
export async function providerUrl(
  settings: AgentConfig,
  env: AgentEnv,
): Promise<string | undefined> {
  try {
    if (settings.kind === "codex") return (await codexProvider(settings, env)).baseUrl;
    if (settings.kind === "claude") return claudeBaseUrl(env);
  } catch {
    // A URL is a courtesy in a message; never fail for it.
  }
  return undefined;
}

/** A URL without user name, password or query values (where API keys hide). */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.username !== "") url.username = "***";
    if (url.password !== "") url.password = "***";
    for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, "***");
    return url.toString().replace(/%2A%2A%2A/g, "***");
  } catch {
    return text.replace(/\/\/[^/@\s]*@/, "//***@");
  }
}

type Table = Record<string, unknown>;

/** `-c key=value`, `--config key=value`, `-p/--profile NAME` and `--oss` in `agent.args`. */
function argumentOverrides(args: readonly string[]): {
  pairs: [string, string][];
  profile: string | undefined;
  oss: boolean;
} {
  const pairs: [string, string][] = [];
  let profile: string | undefined;
  let oss = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    if ((arg === "-c" || arg === "--config") && next !== undefined) {
      const at = next.indexOf("=");
      if (at > 0) pairs.push([next.slice(0, at), next.slice(at + 1)]);
      i++;
    } else if (arg.startsWith("--config=")) {
      const pair = arg.slice("--config=".length);
      const at = pair.indexOf("=");
      if (at > 0) pairs.push([pair.slice(0, at), pair.slice(at + 1)]);
    } else if ((arg === "-p" || arg === "--profile") && next !== undefined) {
      profile = next;
      i++;
    } else if (arg.startsWith("--profile=")) {
      profile = arg.slice("--profile=".length);
    } else if (arg === "--oss") {
      oss = true;
    }
  }
  return { pairs, profile, oss };
}

/** A `-c` value the way codex reads it: TOML when it parses, else the text itself. */
function tomlValue(parse: (text: string) => Table, text: string): unknown {
  try {
    return parse(`value = ${text}`).value;
  } catch {
    return text;
  }
}

function setPath(table: Table, keys: readonly string[], value: unknown): void {
  let current = table;
  for (const key of keys.slice(0, -1)) {
    const next = current[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) current[key] = {};
    current = current[key] as Table;
  }
  const last = keys[keys.length - 1] as string;
  const existing = current[last];
  current[last] =
    isTable(existing) && isTable(value) ? { ...existing, ...value } : (value as unknown);
}

function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asTable(value: unknown): Table {
  return isTable(value) ? value : {};
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
