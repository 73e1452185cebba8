import path from "node:path";
import { parse } from "dotenv";
import { readRegularFile } from "../fs/regular-file.js";
import { MIN_UNNAMED_SECRET_LENGTH, minLengthOf, secretsOfValue } from "./names.js";

/**
 * Whether a copied file is an env file whose values are secrets: `.env`, `.env.local`,
 * `config/.env.production`, `secrets.env`, `.envrc`.
 */
export function isEnvFile(relative: string): boolean {
  const name = path.posix.basename(relative);
  return name.startsWith(".env") || name.endsWith(".env");
}

/**
 * The secrets of an env file, parsed as dotenv parses it (quotes stripped, multi-line quoted
 * values, `export KEY=…`, trailing `# comments`). Every value counts, whatever its name; values
 * of secret-named keys also when short (see {@link secretsOfValue}).
 */
export function secretsInEnvFile(text: string): string[] {
  return Object.entries(parse(text)).flatMap(([name, value]) =>
    secretsOfValue(value, minLengthOf(name) ?? MIN_UNNAMED_SECRET_LENGTH),
  );
}

/** The secrets of the env files among `files` (relative to `dir`); other files are ignored. */
export async function secretsOfCopiedEnvFiles(
  dir: string,
  files: readonly string[],
): Promise<string[]> {
  const secrets: string[] = [];
  for (const file of files.filter(isEnvFile)) {
    const text = await readRegularFile(path.join(dir, file));
    if (text !== undefined) secrets.push(...secretsInEnvFile(text));
  }
  return secrets;
}
