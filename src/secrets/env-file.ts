import path from "node:path";
import { parse } from "dotenv";
import { readRegularFile } from "../fs/regular-file.js";
import {
  MIN_UNNAMED_SECRET_LENGTH,
  minLengthOf,
  type NamedSecret,
  secretsOfVariable,
} from "./names.js";

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
 * of secret-named keys also when short (see {@link secretsOfVariable}).
 */
export function secretsInEnvFile(text: string): string[] {
  return namedSecretsInEnvFile(text).map((secret) => secret.value);
}

/** {@link secretsInEnvFile}, each named after its key and `file`, the env file it was read from. */
export function namedSecretsInEnvFile(text: string, file?: string): NamedSecret[] {
  return Object.entries(parse(text)).flatMap(([name, value]) =>
    secretsOfVariable(name, value, minLengthOf(name) ?? MIN_UNNAMED_SECRET_LENGTH, file),
  );
}

/** The secrets of the env files among `files` (relative to `dir`); other files are ignored. */
export async function secretsOfCopiedEnvFiles(
  dir: string,
  files: readonly string[],
): Promise<string[]> {
  return (await namedSecretsOfCopiedEnvFiles(dir, files)).map((secret) => secret.value);
}

/** {@link secretsOfCopiedEnvFiles}, each named after its key and its file. */
export async function namedSecretsOfCopiedEnvFiles(
  dir: string,
  files: readonly string[],
): Promise<NamedSecret[]> {
  const secrets: NamedSecret[] = [];
  for (const file of files.filter(isEnvFile)) {
    const text = await readRegularFile(path.join(dir, file));
    if (text !== undefined) secrets.push(...namedSecretsInEnvFile(text, file));
  }
  return secrets;
}
