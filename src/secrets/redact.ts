import { readFile } from "node:fs/promises";
import path from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { StringDecoder } from "node:string_decoder";

/** Shown in place of a secret in logs, events and reports. */
export const REDACTED = "[redacted]";

/** Secrets shorter than this are not redacted: they would blank out ordinary words and numbers. */
const MIN_SECRET_LENGTH = 6;

/**
 * Environment variable names whose values are treated as secrets: a `_`-separated word of the name
 * is one of these (OPENAI_API_KEY, GITHUB_TOKEN, DB_PASSWORD), so GIT_AUTHOR_EMAIL is not.
 */
const SECRET_NAME =
  /(^|_)(KEY|APIKEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|CREDENTIALS?|PRIVATE|AUTH|COOKIE|SESSION)(_|$)/i;

/** Replaces known secret values in text and streams. */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    this.secrets = [...new Set([...secrets].filter((secret) => secret.length >= MIN_SECRET_LENGTH))]
      // Longest first, so a secret that contains another is replaced whole.
      .sort((a, b) => b.length - a.length);
  }

  /** Whether there is anything to redact at all. */
  get active(): boolean {
    return this.secrets.length > 0;
  }

  /** A copy of `text` with every secret replaced. */
  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) {
      if (result.includes(secret)) result = result.replaceAll(secret, REDACTED);
    }
    return result;
  }

  /** Length of the longest end of `text` (at most `max`) that is the beginning of a secret. */
  secretPrefixLength(text: string, max: number): number {
    for (let length = Math.min(max, text.length); length > 0; length--) {
      const tail = text.slice(text.length - length);
      if (this.secrets.some((secret) => secret.startsWith(tail))) return length;
    }
    return 0;
  }

  /** A stream that redacts what passes through it, also across chunk boundaries. */
  stream(): Transform {
    const decoder = new StringDecoder("utf8");
    const keep = Math.max(0, ...this.secrets.map((secret) => secret.length)) - 1;
    let pending = "";
    const redactor = this;
    return new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
        if (!redactor.active) {
          done(null, chunk);
          return;
        }
        // Hold back only a tail that could be the start of a secret split over two chunks, so
        // ordinary output is passed on at once (live logs, `conductor serve`).
        const text = redactor.redact(pending + decoder.write(chunk));
        pending = text.slice(text.length - redactor.secretPrefixLength(text, keep));
        done(null, text.slice(0, text.length - pending.length));
      },
      flush(done: TransformCallback) {
        done(null, redactor.active ? redactor.redact(pending + decoder.end()) : undefined);
      },
    });
  }
}

/** Values of environment variables whose names mark them as secrets (API keys, tokens…). */
export function secretsInEnvironment(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(([name, value]) => value !== undefined && SECRET_NAME.test(name))
    .map(([, value]) => value as string);
}

/**
 * Every value assigned in a dotenv-style file (`KEY=value`, `export KEY="value"`). All values of a
 * copied env file count as secrets, whatever their names.
 */
export function valuesInEnvFile(text: string): string[] {
  const values: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*[=:]\s*(.*?)\s*$/.exec(line);
    const raw = match?.[1];
    if (raw === undefined || raw === "" || raw.startsWith("#")) continue;
    const quoted = /^(['"])(.*)\1$/.exec(raw);
    values.push(quoted ? (quoted[2] as string) : raw.replace(/\s+#.*$/, ""));
  }
  return values;
}

/**
 * Every value of the env files (`.env`, `.env.local`, …) among `copied`, read from `dir`. All
 * values of a copied env file count as secrets, whatever their names.
 */
export async function secretsOfCopiedEnvFiles(
  dir: string,
  copied: readonly string[],
): Promise<string[]> {
  const secrets: string[] = [];
  for (const file of copied.filter((relative) => /(^|\/)\.env/.test(relative))) {
    secrets.push(...valuesInEnvFile(await readFile(path.join(dir, file), "utf8").catch(() => "")));
  }
  return secrets;
}
