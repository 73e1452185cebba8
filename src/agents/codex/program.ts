import type { AgentConfig } from "../../schema/config.js";
import { type Program, resolveAgentProgram } from "../resolve-binary.js";

/** The npm package that ships the `codex` binary. */
export const CODEX_PACKAGE = "@openai/codex";

/** Why a codex session or review could not start when no codex program is found. */
export const CODEX_NOT_FOUND =
  "codex was not found: install @openai/codex, put codex on PATH, or set agent.command";

/**
 * Finds codex: `agent.command` when set, else the `codex` bin of @openai/codex installed with
 * conductor, else `codex` on PATH. Undefined when none.
 */
export function resolveCodexProgram(
  configured: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Program | undefined {
  return resolveAgentProgram(
    configured,
    { name: CODEX_PACKAGE, bin: "bin/codex.js" },
    "codex",
    env,
  );
}

/** `-m <model>` when the settings name one. */
export function codexModelArgs(settings: AgentConfig): string[] {
  return settings.model === undefined ? [] : ["-m", settings.model];
}

/** One `-c key=value` per entry of `agent.config`. */
export function codexConfigArgs(settings: AgentConfig): string[] {
  return Object.entries(settings.config).flatMap(([key, value]) => [
    "-c",
    `${key}=${String(value)}`,
  ]);
}
