import { accessSync, constants, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { type Program, resolveAgentProgram } from "../resolve-binary.js";

/** The npm package that ships the `claude` binary. */
export const CLAUDE_PACKAGE = "@anthropic-ai/claude-code";

/**
 * Finds claude: `agent.command` when set, else the `claude` bin of @anthropic-ai/claude-code
 * installed with conductor, else `claude` on PATH. Undefined when none.
 *
 * The package's bin entry is read from its package.json rather than assumed: up to 2.1.112 it is
 * `cli.js` (run with this Node), since 2.1.113 it is `bin/claude.exe`, a native executable that the
 * package's postinstall copies from a platform package (before that it is a small shell stub that
 * explains how to finish the install).
 */
export function resolveClaudeProgram(
  configured: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Program | undefined {
  if (configured !== undefined) return { file: configured, args: [], source: "config" };
  return packageProgram() ?? resolveAgentProgram(undefined, undefined, "claude", env);
}

function packageProgram(): Program | undefined {
  try {
    const require = createRequire(import.meta.url);
    const manifestPath = require.resolve(`${CLAUDE_PACKAGE}/package.json`);
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin?: unknown };
    const bin =
      typeof manifest.bin === "string"
        ? manifest.bin
        : typeof manifest.bin === "object" && manifest.bin !== null && "claude" in manifest.bin
          ? manifest.bin.claude
          : undefined;
    if (typeof bin !== "string") return undefined;
    const file = path.join(path.dirname(manifestPath), bin);
    if (/\.[cm]?js$/.test(bin)) {
      accessSync(file, constants.R_OK);
      return { file: process.execPath, args: [file], source: "package" };
    }
    accessSync(file, constants.X_OK);
    return { file, args: [], source: "package" };
  } catch {
    return undefined; // Not installed with conductor; fall back to PATH.
  }
}
