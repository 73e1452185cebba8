/**
 * Which values count as secrets: values of secret-named variables, every line of a multi-line
 * one, and the password of a URL. Pure functions; the files they come from are read elsewhere.
 */

/**
 * Shortest value of a secret-named variable that is redacted. Shorter values (`1`, `on`, `abc`)
 * are guessed in moments anyway, and replacing them would blank out fragments of ordinary words.
 */
export const MIN_NAMED_SECRET_LENGTH = 4;

/**
 * Shortest value of a variable that is not named like a secret (every value of a copied `.env`
 * file counts) that is redacted: `PORT=3000` or `DEBUG=app` would only make logs unreadable.
 */
export const MIN_UNNAMED_SECRET_LENGTH = 6;

/**
 * Shortest value made only of digits that is redacted. Agents print JSON, and a short number
 * (a port, a timeout, a count) would be replaced inside the stream's numbers before it is read.
 */
const MIN_DIGITS_SECRET_LENGTH = 6;

/** Values that switch something on or off: never secrets, and everywhere in JSON. */
const SETTING_WORDS = /^(true|false|yes|no|on|off|null|nil|none|undefined)$/i;

/** A `_`-separated word of the name marks a secret: OPENAI_API_KEY, GITHUB_TOKEN, DB_PASS, SENTRY_DSN. */
const SECRET_WORD =
  /(^|_)(KEY|APIKEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PASSPHRASE|PWD|CREDENTIALS?|PRIVATE|AUTH|COOKIE|SESSION|DSN)(_|$)/i;

/** Marks a secret anywhere in the name: PGPASSWORD, CLIENT_SECRETS, MYAPIKEY, SSHPRIVATE_KEY. */
const SECRET_PART = /PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|CREDENTIAL|API_?KEY|PRIVATE_?KEY/i;

/** Names that look secret but are not: the shell's working directories. */
const NOT_SECRET_NAMES = new Set(["PWD", "OLDPWD"]);

/** Whether a variable's name marks its value as a secret (API keys, tokens, passwords…). */
export function isSecretName(name: string): boolean {
  if (NOT_SECRET_NAMES.has(name.toUpperCase())) return false;
  return SECRET_WORD.test(name) || SECRET_PART.test(name);
}

/**
 * The password of a URL-shaped value (`postgres://user:PASS@host/db`), as written and
 * percent-decoded, or nothing.
 */
export function urlPasswords(value: string): string[] {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:@/]*:([^\s]*)@[^\s@]*$/.exec(value.trim());
  const password = match?.[1];
  if (password === undefined || password === "") return [];
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // not valid percent-encoding: the value as written is all there is
  }
  return [...new Set([password, decoded])].filter((form) =>
    worthRedacting(form, MIN_NAMED_SECRET_LENGTH),
  );
}

/**
 * The secrets one variable holds: for a secret-named one (`named`) or any value of a copied env
 * file, the value and each line of a multi-line value (a PEM body printed line by line); for any
 * variable, the password of a URL-shaped value.
 */
export function secretsOfValue(value: string, whole: "named" | "unnamed" | "none"): string[] {
  const secrets = urlPasswords(value);
  if (whole === "none") return secrets;
  const min = whole === "named" ? MIN_NAMED_SECRET_LENGTH : MIN_UNNAMED_SECRET_LENGTH;
  if (worthRedacting(value, min)) secrets.push(value);
  const lines = value.split(/\r?\n/);
  if (lines.length > 1) {
    for (const line of lines) if (worthRedacting(line.trim(), min)) secrets.push(line.trim());
  }
  return secrets;
}

/** Values of the secret-named variables of an environment, and the passwords of its URLs. */
export function secretsInEnvironment(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env).flatMap(([name, value]) =>
    value === undefined ? [] : secretsOfValue(value, isSecretName(name) ? "named" : "none"),
  );
}

function worthRedacting(value: string, min: number): boolean {
  if (value.trim().length < min || SETTING_WORDS.test(value.trim())) return false;
  return !/^\d+$/.test(value) || value.length >= MIN_DIGITS_SECRET_LENGTH;
}
