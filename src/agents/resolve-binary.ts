import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { findOnPath } from "../process/find-on-path.js";

/** How to start an agent program: a file plus leading arguments (e.g. node + a script). */
export interface Program {
  file: string;
  args: string[];
  /** Where it was found, for messages. */
  source: "config" | "package" | "path";
}

/**
 * Finds an agent's program: `agent.command` when set, else the npm package installed with
 * conductor (its bin script, run with this Node), else the binary on PATH. Undefined when none.
 */
export function resolveAgentProgram(
  configured: string | undefined,
  packageBin: { name: string; bin: string } | undefined,
  pathName: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Program | undefined {
  if (configured !== undefined) return { file: configured, args: [], source: "config" };
  if (packageBin) {
    try {
      const require = createRequire(import.meta.url);
      const manifest = require.resolve(`${packageBin.name}/package.json`);
      const script = path.join(path.dirname(manifest), packageBin.bin);
      accessSync(script, constants.R_OK);
      return { file: process.execPath, args: [script], source: "package" };
    } catch {
      // Not installed with conductor; fall back to PATH.
    }
  }
  const found = findOnPath(pathName, env);
  return found === undefined ? undefined : { file: found, args: [], source: "path" };
}
