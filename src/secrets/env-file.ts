import { constants } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { parse } from "dotenv";
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

/**
 * A file's text, or undefined when it is missing or not a regular file. The file is opened
 * without blocking and checked before it is read: an agent may have replaced a copied file by a
 * FIFO, and reading that would wait forever.
 */
async function readRegularFile(file: string): Promise<string | undefined> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    return await handle.readFile("utf8");
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}
