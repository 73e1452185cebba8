/** Checks of the codex and claude programs: found, a version conductor reads, credentials. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { CLAUDE_PACKAGE, resolveClaudeProgram } from "../agents/claude/program.js";
import { CODEX_PACKAGE, resolveCodexProgram } from "../agents/codex/program.js";
import {
  type AgentEnv,
  type CodexProvider,
  claudeBaseUrl,
  codexProvider,
} from "../agents/provider.js";
import type { Program } from "../agents/resolve-binary.js";
import { conductorCommand, currentInvocation } from "../hint/command.js";
import { shellCommand } from "../hint/shell-quote.js";
import { askProgram } from "../process/quick.js";
import type { AgentConfig } from "../schema/config.js";
import { type CheckResult, result } from "./check.js";
import { atLeast, MIN_CLAUDE_VERSION, MIN_CODEX_VERSION, parseVersion } from "./version.js";

/** Longest wait for `--version` or `login status`; preflight must answer within two seconds. */
const ASK_TIMEOUT_MS = 1500;

/** Variables that give codex credentials without a login. */
const CODEX_KEY_VARIABLES = ["OPENAI_API_KEY", "CODEX_API_KEY", "CODEX_ACCESS_TOKEN"];
/** Variables that let claude work without its own login. */
const CLAUDE_KEY_VARIABLES = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "ANTHROPIC_BASE_URL",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "CLAUDE_CODE_USE_BEDROCK",
  "CLAUDE_CODE_USE_VERTEX",
];

/** An agent as a workspace will run it: its settings and its whole environment. */
export interface AgentTarget {
  settings: AgentConfig;
  env: AgentEnv;
}

/** The codex or claude program, its version, its credentials and (as info) its provider. */
export async function agentChecks(target: AgentTarget): Promise<CheckResult[]> {
  if (target.settings.kind === "codex") return codexChecks(target);
  if (target.settings.kind === "claude") return claudeChecks(target);
  return [];
}

/** The failed check of an agent program that is not installed, saying how to install it. */
function notFound(name: string, npmPackage: string): CheckResult {
  return result(
    name,
    "fail",
    `${name} was not found`,
    `npm install ${npmPackage} (or put ${name} on PATH, or set agent.command)`,
  );
}

async function codexChecks({ settings, env }: AgentTarget): Promise<CheckResult[]> {
  const program = resolveCodexProgram(settings.command, env);
  if (program === undefined) return [notFound("codex", CODEX_PACKAGE)];
  const [version, provider] = await Promise.all([
    programVersion("codex", program, CODEX_PACKAGE, MIN_CODEX_VERSION, env),
    codexProvider(settings, env),
  ]);
  const checks = [version, providerInfo(provider)];
  if (version.status !== "fail") checks.push(await codexCredentials(program, provider, env));
  return checks;
}

function providerInfo(provider: CodexProvider): CheckResult {
  const where =
    provider.source === "built-in"
      ? "built in"
      : provider.source === "agent.config"
        ? "from agent.config"
        : `from ${path.join(provider.codexHome, "config.toml")}`;
  return result("codex provider", "info", `${provider.id} at ${provider.baseUrl} (${where})`);
}

async function codexCredentials(
  program: Program,
  provider: CodexProvider,
  env: AgentEnv,
): Promise<CheckResult> {
  const check = "codex credentials";
  if (provider.configProblem !== undefined) {
    return result(
      check,
      "fail",
      `codex cannot read its configuration: ${provider.configProblem}`,
      "fix the TOML in that file",
    );
  }
  if (!provider.requiresOpenaiAuth) {
    if (provider.envKey === undefined || provider.hasToken)
      return result(check, "ok", `provider ${provider.id} needs no key`);
    if (env[provider.envKey])
      return result(check, "ok", `provider ${provider.id}: key in ${provider.envKey}`);
    return result(
      check,
      "fail",
      `codex provider ${provider.id} needs its key in ${provider.envKey}, which is not set`,
      `set ${provider.envKey} in the environment or in the config's env`,
    );
  }
  const variable = CODEX_KEY_VARIABLES.find((name) => env[name]);
  if (variable !== undefined) return result(check, "ok", `key in ${variable}`);
  if (hasCodexLogin(provider.codexHome))
    return result(check, "ok", `logged in (${path.join(provider.codexHome, "auth.json")})`);
  // Credentials kept in the system keyring are invisible from here: ask codex itself.
  if (usesKeyring(provider.codexHome)) {
    const status = await askProgram(program.file, [...program.args, "login", "status"], {
      env: { ...process.env, ...env },
      timeoutMs: ASK_TIMEOUT_MS,
    });
    if (status.exitCode === 0) return result(check, "ok", "logged in (keyring)");
  }
  const home = env.CODEX_HOME ? `CODEX_HOME=${shellCommand([env.CODEX_HOME])} ` : "";
  const login = `${home}${shellCommand(programWords(program, "codex"))} login`;
  return result(
    check,
    "fail",
    `codex is not logged in (CODEX_HOME ${provider.codexHome}) and no OPENAI_API_KEY or CODEX_API_KEY is set`,
    // As the user starts conductor (npx), without -C/-c: the demo makes its own repository.
    `run \`${login}\` or set OPENAI_API_KEY; \`${conductorCommand(["demo"], { program: currentInvocation().program })}\` runs without one`,
  );
}

/** Whether CODEX_HOME holds a saved API key or ChatGPT sign-in. */
function hasCodexLogin(codexHome: string): boolean {
  try {
    const auth = JSON.parse(readFileSync(path.join(codexHome, "auth.json"), "utf8")) as Record<
      string,
      unknown
    >;
    return (
      Boolean(auth.OPENAI_API_KEY) || (typeof auth.tokens === "object" && auth.tokens !== null)
    );
  } catch {
    return false;
  }
}

/** Whether codex is told to keep credentials in the system keyring instead of auth.json. */
function usesKeyring(codexHome: string): boolean {
  try {
    const text = readFileSync(path.join(codexHome, "config.toml"), "utf8");
    return /^\s*cli_auth_credentials_store\s*=\s*"(keyring|auto)"/m.test(text);
  } catch {
    return false;
  }
}

async function claudeChecks({ settings, env }: AgentTarget): Promise<CheckResult[]> {
  const program = resolveClaudeProgram(settings.command, env);
  if (program === undefined) return [notFound("claude", CLAUDE_PACKAGE)];
  const version = await programVersion("claude", program, CLAUDE_PACKAGE, MIN_CLAUDE_VERSION, env);
  const provider = result("claude provider", "info", claudeBaseUrl(env));
  if (version.status === "fail") return [version, provider];
  return [version, provider, await claudeCredentials(program, env)];
}

async function claudeCredentials(program: Program, env: AgentEnv): Promise<CheckResult> {
  const check = "claude credentials";
  const variable = CLAUDE_KEY_VARIABLES.find((name) => env[name]);
  if (variable !== undefined) return result(check, "ok", `set by ${variable}`);
  const configDir = env.CLAUDE_CONFIG_DIR || path.join(env.HOME || "", ".claude");
  if (existsSync(path.join(configDir, ".credentials.json")))
    return result(check, "ok", `logged in (${configDir})`);
  // On macOS claude keeps its login in the keychain: ask claude itself.
  if (process.platform === "darwin") {
    const status = await askProgram(program.file, [...program.args, "auth", "status"], {
      env: { ...process.env, ...env },
      timeoutMs: ASK_TIMEOUT_MS,
    });
    if (status.exitCode === 0) return result(check, "ok", "logged in (keychain)");
  }
  return result(
    check,
    "fail",
    "claude is not logged in and no ANTHROPIC_API_KEY is set",
    `run \`${shellCommand(programWords(program, "claude"))} auth login\` or set ANTHROPIC_API_KEY`,
  );
}

/** The program's version from its package (no process) or from `--version`. */
async function programVersion(
  name: string,
  program: Program,
  packageName: string,
  minimum: string,
  env: AgentEnv,
): Promise<CheckResult> {
  const where = `${program.file}${program.args.length > 0 ? ` ${program.args.join(" ")}` : ""}`;
  let version = program.source === "package" ? packageVersion(program, packageName) : undefined;
  if (version === undefined) {
    const answer = await askProgram(program.file, [...program.args, "--version"], {
      env: { ...process.env, ...env },
      timeoutMs: ASK_TIMEOUT_MS,
    });
    if (answer.exitCode !== 0) {
      const why = answer.problem ?? (answer.stderr.trim().split("\n")[0] || "no output");
      return result(
        name,
        "fail",
        `${where} --version failed: ${why}`,
        `reinstall ${packageName} or point agent.command at a working ${name}`,
      );
    }
    version = parseVersion(answer.stdout);
    if (version === undefined) {
      return result(
        name,
        "fail",
        `${where} --version printed no version`,
        `point agent.command at ${name} ${minimum} or newer`,
      );
    }
  }
  if (!atLeast(version, minimum)) {
    return result(
      name,
      "fail",
      `${name} ${version} is older than ${minimum}, the oldest conductor reads correctly (${where})`,
      `npm install ${packageName}@latest (or set agent.command to a newer ${name})`,
    );
  }
  const from = program.source === "package" ? "installed with conductor" : where;
  return result(name, "ok", `${name} ${version} (${from})`);
}

/** The version in the package.json next to a program installed with conductor. */
function packageVersion(program: Program, packageName: string): string | undefined {
  let dir = path.dirname(program.args[0] ?? program.file);
  for (let depth = 0; depth < 4; depth++) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name?: unknown;
        version?: unknown;
      };
      if (manifest.name === packageName && typeof manifest.version === "string")
        return parseVersion(manifest.version);
    } catch {
      // keep looking upwards
    }
    dir = path.dirname(dir);
  }
  return undefined;
}

/** The words that start a program, as a person would type them. */
function programWords(program: Program, name: string): string[] {
  if (program.source === "path") return [name];
  return [program.file === process.execPath ? "node" : program.file, ...program.args];
}
