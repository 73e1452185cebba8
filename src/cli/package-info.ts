import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The folder conductor is installed in (holds package.json, schema/, conductor.yaml.example). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function manifest(): { name: string; version: string } {
  return JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as {
    name: string;
    version: string;
  };
}

/** conductor's own version, from its package.json. */
export function packageVersion(): string {
  return manifest().version;
}

/** conductor's package name on npm (`codex-conductor`), from its package.json. */
export function packageName(): string {
  return manifest().name;
}
