/**
 * Which values count as secrets: values of secret-named variables, every line of a multi-line
 * one, and the password of a URL. Pure functions; the files they come from are read elsewhere.
 */

/**
 * Shortest value of a variable named like a credential (`…_TOKEN`, `…_PASSWORD`) that is
 * redacted. Shorter values (`1`, `on`, `abc`) are guessed in moments anyway, and replacing them
 * would blank out fragments of ordinary words.
 */
export const MIN_NAMED_SECRET_LENGTH = 4;

/**
 * Shortest value of any other variable that is redacted: every value of a copied `.env` file,
 * and names that only hint at a secret (`…_SESSION`, `…_AUTH`). `PORT=3000`, `DEBUG=app` or
 * `XDG_SESSION_CLASS=user` would only make logs unreadable.
 */
export const MIN_UNNAMED_SECRET_LENGTH = 6;

/**
 * Shortest value made only of digits that is redacted. Agents print JSON, and a short number
 * (a port, a timeout, a count) would be replaced inside the stream's numbers before it is read.
 */
const MIN_DIGITS_SECRET_LENGTH = 6;

/**
 * Shortest secret whose presence in a file keeps the file out of commits. Shorter credentials
 * (`DB_PASSWORD=test`, `ADMIN_PASS=admin`) are still redacted, but they are ordinary words that
 * code, tests and docs hold anyway: refusing every file that says "test" would fail every
 * workspace of such a project, and a password that short is guessed in moments anyway.
 */
export const MIN_COMMITTED_SECRET_LENGTH = 8;

/**
 * A secret with what holds it, so that a message can name it without showing it. Only
 * {@link secretsOfVariable} makes them.
 */
export interface NamedSecret {
  value: string;
  /**
   * The variable that holds it (`OPENAI_API_KEY`), and the file it was read from (`API_TOKEN
   * from .env.local`).
   */
  name: string;
  /**
   * Whether a file holding it is kept out of commits: a credential by its variable's name (or a
   * URL's password) of {@link MIN_COMMITTED_SECRET_LENGTH} characters or more that is not a word
   * (see `barrable`). Other values of a copied env file (`NODE_ENV=development`,
   * `API_URL=http://localhost:3000`) and names that only hint at a secret (`AUTH_URL`) are
   * redacted, but code is full of them.
   */
  barredFromCommits: boolean;
}

/** Values that switch something on or off: never secrets, and everywhere in JSON. */
const SETTING_WORDS = /^(true|false|yes|no|on|off|null|nil|none|undefined)$/i;

/** A `_`-separated word of the name marks a credential: OPENAI_API_KEY, GITHUB_TOKEN, DB_PASS. */
const CREDENTIAL_WORD =
  /(^|_)(KEY|APIKEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PASSPHRASE|PWD|CREDENTIALS?|DSN)(_|$)/i;

/** Marks a credential anywhere in the name: PGPASSWORD, CLIENT_SECRETS, MYAPIKEY, SSHPRIVATE_KEY. */
const CREDENTIAL_PART = /PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|CREDENTIAL|API_?KEY|PRIVATE_?KEY/i;

/** A word that only hints at a secret (SESSION_ID, BASIC_AUTH, GITHUB_PRIVATE): longer values only. */
const HINT_WORD = /(^|_)(PRIVATE|AUTH|COOKIE|SESSION)(_|$)/i;

/** The system's own plumbing, named like secrets but holding sockets and desktop facts. */
const SYSTEM_NAMES =
  /^(PWD|OLDPWD|XDG_.*|DBUS_SESSION_BUS_ADDRESS|SESSION_MANAGER|SSH_AUTH_SOCK)$/i;

/** Whether a variable's name marks its value as a secret (API keys, tokens, passwords…). */
export function isSecretName(name: string): boolean {
  return minLengthOf(name) !== undefined;
}

/** Whether a variable's name says it holds a credential, not only hints at one (`…_SESSION`). */
export function isCredentialName(name: string): boolean {
  return !SYSTEM_NAMES.test(name) && (CREDENTIAL_WORD.test(name) || CREDENTIAL_PART.test(name));
}

/**
 * The shortest value of the variable `name` that counts as a secret, or undefined when its name
 * does not mark it as one.
 */
export function minLengthOf(name: string): number | undefined {
  if (SYSTEM_NAMES.test(name)) return undefined;
  if (CREDENTIAL_WORD.test(name) || CREDENTIAL_PART.test(name)) return MIN_NAMED_SECRET_LENGTH;
  return HINT_WORD.test(name) ? MIN_UNNAMED_SECRET_LENGTH : undefined;
}

/**
 * The password of a URL-shaped value (`postgres://user:PASS@host/db`), as written and
 * percent-decoded, or nothing.
 */
export function urlPasswords(value: string): string[] {
  // No `/` in the password: `https://host:8080/@scope/pkg` has a port and a path, not a password.
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:@/]*:([^\s/]*)@[^\s@]*$/.exec(value.trim());
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
 * The secrets one value holds: when it counts as a secret (`min` is its shortest length), the
 * value and each line of a multi-line value (a PEM body printed line by line); always, the
 * password of a URL-shaped value.
 */
export function secretsOfValue(value: string, min: number | undefined): string[] {
  return [...urlPasswords(value), ...valueAndLines(value, min)];
}

/**
 * {@link secretsOfValue} of the variable `name`, each named after it (and after `file`, the env
 * file it was read from, if any).
 */
export function secretsOfVariable(
  name: string,
  value: string,
  min: number | undefined,
  file?: string,
): NamedSecret[] {
  const label = file === undefined ? name : `${name} from ${file}`;
  const credential = isCredentialName(name);
  const lines = new Set(
    value.includes("\n") ? value.split(/\r?\n/).map((line) => line.trim()) : [],
  );
  const named = (secret: string, ofCredential: boolean): NamedSecret => ({
    value: secret,
    name: label,
    barredFromCommits: ofCredential && barrable(secret, lines.has(secret)),
  });
  const secrets = valueAndLines(value, min);
  return [
    ...urlPasswords(value).map((password) => named(password, true)),
    ...secrets.map((secret) => named(secret, credential)),
    ...(credential ? quotedValuesOf(value) : [])
      .filter((quoted) => !secrets.includes(quoted))
      .map((quoted) => ({
        value: quoted,
        name: label,
        barredFromCommits: barrable(quoted, false),
      })),
  ];
}

/**
 * Whether a credential's value (or one line of a multi-line one) is unlike anything a project's
 * own files say anyway, so that a file holding it can be refused. Not a word (`postgres`,
 * `Password`): `postgres://postgres:postgres@…` and `POSTGRES_PASSWORD=password` are the stock
 * settings of CI services and compose files, and every file that mentions postgres or a password
 * field would be refused; a random key of letters alone mixes cases and is barred. A line of a
 * multi-line value (a PEM key, a JSON service account) only when it has no blank in it and is
 * long: its armour (`-----BEGIN PRIVATE KEY-----`) and its structure (`"type": …,`) are in every
 * such file; its body lines are the secret (the values within a line of JSON are secrets of their
 * own, see {@link quotedValuesOf}).
 */
function barrable(secret: string, isLine: boolean): boolean {
  const text = secret.trim();
  if (text.length < MIN_COMMITTED_SECRET_LENGTH || /^[A-Z]?[a-z]+$/.test(text)) return false;
  return !isLine || (!/\s/.test(text) && text.length >= MIN_BARRED_LINE_LENGTH);
}

/**
 * The quoted values in the lines of a multi-line value: those of a pretty-printed JSON credential
 * (`"private_key_id": "0123…",`), found apart from the line around them, which a re-indented copy
 * would not repeat. Keys (a string before a colon) are not values; nor are the long values that
 * are public in every such file (`"token_uri": "https://…"`, the account's e-mail address).
 */
function quotedValuesOf(value: string): string[] {
  if (!value.includes("\n")) return [];
  // Every quoted string in turn, keys too (skipping a key by its colon would let the search start
  // again at its closing quote); a key is one followed by a colon.
  const values = [...value.matchAll(/"((?:[^"\\\n]|\\.)*)"(\s*:)?/g)]
    .filter((match) => match[2] === undefined)
    .map((match) => match[1] ?? "");
  return [
    ...new Set(
      values.filter(
        (found) =>
          found.length >= MIN_BARRED_LINE_LENGTH &&
          !/^[a-z][a-z0-9+.-]*:\/\//i.test(found) &&
          !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(found),
      ),
    ),
  ];
}

/** Shortest line of a multi-line credential that keeps a file holding it out of commits. */
const MIN_BARRED_LINE_LENGTH = 16;

/** The value, when it counts as a secret (`min` is its shortest length), and each of its lines. */
function valueAndLines(value: string, min: number | undefined): string[] {
  if (min === undefined) return [];
  const secrets: string[] = [];
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
    value === undefined ? [] : secretsOfValue(value, minLengthOf(name)),
  );
}

/** {@link secretsInEnvironment}, each named after its variable. */
export function namedSecretsInEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): NamedSecret[] {
  return Object.entries(env).flatMap(([name, value]) =>
    value === undefined ? [] : secretsOfVariable(name, value, minLengthOf(name)),
  );
}

function worthRedacting(value: string, min: number): boolean {
  if (value.trim().length < min || SETTING_WORDS.test(value.trim())) return false;
  return !/^\d+$/.test(value) || value.length >= MIN_DIGITS_SECRET_LENGTH;
}
