import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { namedSecretsInEnvFile } from "../../src/secrets/env-file.js";
import { KnownSecrets } from "../../src/secrets/known-secrets.js";
import { namedSecretsInEnvironment } from "../../src/secrets/names.js";
import { Redactor } from "../../src/secrets/redact.js";
import { SecretSearch, secretsInBytes } from "../../src/secrets/secret-search.js";
import { secretsInFile } from "../../src/secrets/secrets-in-file.js";

const KEY = "sk-search-Key-7f3a91c2";
const QUOTED = `pw"with\\back-8c1e`;

describe("which secrets a text holds", () => {
  const redactor = new Redactor([KEY, QUOTED]);

  it("finds a secret as printed, JSON-escaped once or twice, and with its characters as \\u escapes", () => {
    const once = JSON.stringify(QUOTED).slice(1, -1);
    expect(redactor.found(`key: ${KEY}`)).toEqual([KEY]);
    expect(redactor.found(JSON.stringify({ password: QUOTED }))).toEqual([QUOTED]);
    expect(redactor.found(JSON.stringify({ nested: JSON.stringify({ p: QUOTED }) }))).toEqual([
      QUOTED,
    ]);
    expect(redactor.found(`{"k": "${KEY.replace("-", "\\u002D")}"}`)).toEqual([KEY]);
    expect(redactor.found(`${once} and ${KEY}`).sort()).toEqual([KEY, QUOTED].sort());
  });

  it("finds nothing in ordinary text or in part of a secret", () => {
    expect(redactor.found("no secrets here")).toEqual([]);
    expect(redactor.found(KEY.slice(0, -1))).toEqual([]);
  });

  it("finds a secret split across the pieces a file is read in, wherever the cut falls", () => {
    const text = `{"a": 1, "token": ${JSON.stringify(QUOTED)}, "b": "${KEY}"}`;
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const search = new SecretSearch(redactor);
      search.write(bytes.subarray(0, cut));
      search.write(bytes.subarray(cut));
      expect(search.end().sort(), `cut at ${cut}`).toEqual([KEY, QUOTED].sort());
    }
    // Byte by byte, through multi-byte characters too.
    const search = new SecretSearch(new Redactor(["geheim-é-schlüssel"]));
    for (const byte of Buffer.from("x geheim-é-schlüssel y")) search.write(Buffer.from([byte]));
    expect(search.end()).toEqual(["geheim-é-schlüssel"]);
  });

  it("finds in pieces exactly what it finds in the whole, whatever backslashes stand before a cut", () => {
    // Runs of backslashes before an escape make it an escape, an escaped backslash, or an escape
    // escaped twice: which, the backslashes before a cut decide.
    for (let backslashes = 1; backslashes <= 5; backslashes++) {
      const text = `${"x".repeat(20)}${"\\".repeat(backslashes)}u0073${KEY.slice(1)} tail`;
      const whole = redactor.found(text);
      const bytes = Buffer.from(text);
      for (let cut = 1; cut < bytes.length; cut++) {
        const search = new SecretSearch(redactor);
        search.write(bytes.subarray(0, cut));
        search.write(bytes.subarray(cut));
        expect(search.end(), `${backslashes} backslashes, cut at ${cut}`).toEqual(whole);
      }
    }
  });

  it("searches a large buffer a piece at a time", () => {
    const big = Buffer.concat([Buffer.alloc(3 * 1024 * 1024 - 5, "a"), Buffer.from(KEY)]);
    expect(secretsInBytes(big, redactor)).toEqual([KEY]);
  });
});

describe("which secrets a file holds", () => {
  const redactor = new Redactor([KEY]);
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "conductor-secret-file-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads regular files, and a symlink's own text, never what it points to", () => {
    writeFileSync(path.join(dir, "out.txt"), `token=${KEY}\n`);
    writeFileSync(path.join(dir, "clean.txt"), "nothing\n");
    symlinkSync("out.txt", path.join(dir, "link-to-secret"));
    symlinkSync(KEY, path.join(dir, "link-named-secret"));
    expect(secretsInFile(path.join(dir, "out.txt"), redactor, 1000)).toEqual([KEY]);
    expect(secretsInFile(path.join(dir, "clean.txt"), redactor, 1000)).toEqual([]);
    expect(secretsInFile(path.join(dir, "link-to-secret"), redactor, 1000)).toEqual([]);
    expect(secretsInFile(path.join(dir, "link-named-secret"), redactor, 1000)).toEqual([KEY]);
  });

  it("skips directories, missing files, files over the size limit, and never waits on a FIFO", async () => {
    mkdirSync(path.join(dir, "folder"));
    writeFileSync(path.join(dir, "large.txt"), `${KEY}${"x".repeat(100)}`);
    await execa("mkfifo", [path.join(dir, "fifo")]);
    expect(secretsInFile(path.join(dir, "folder"), redactor, 1000)).toEqual([]);
    expect(secretsInFile(path.join(dir, "missing"), redactor, 1000)).toEqual([]);
    expect(secretsInFile(path.join(dir, "large.txt"), redactor, 50)).toEqual([]);
    expect(secretsInFile(path.join(dir, "fifo"), redactor, 1000)).toEqual([]);
  });

  it("reads a file larger than one piece", () => {
    const file = path.join(dir, "big.json");
    writeFileSync(file, `${"y".repeat(2 * 1024 * 1024 - 3)}${JSON.stringify(KEY)}`);
    expect(secretsInFile(file, redactor, 10 * 1024 * 1024)).toEqual([KEY]);
  });
});

describe("the secrets barred from commits", () => {
  it("are credentials by name of eight characters or more and URL passwords, each named after what holds it", () => {
    const secrets = new KnownSecrets([
      ...namedSecretsInEnvironment({
        OPENAI_API_KEY: "sk-env-4d1c9b7e",
        DB_PASSWORD: "test",
        SESSION_ID: "session-value-1",
        DATABASE_URL: "postgres://app:Url-Pa55-w0rd@db/app",
      }),
      ...namedSecretsInEnvFile(
        "API_TOKEN=tok-file-91b2c3\nNODE_ENV=development\nAPI_URL=http://localhost:3000\n",
        ".env.local",
      ),
      "bare-value-only-redacted",
    ]);
    const guard = secrets.commitGuard();
    const text =
      "sk-env-4d1c9b7e test session-value-1 Url-Pa55-w0rd tok-file-91b2c3 development http://localhost:3000 bare-value-only-redacted";
    expect(guard.redactor.found(text).sort()).toEqual(
      ["Url-Pa55-w0rd", "sk-env-4d1c9b7e", "tok-file-91b2c3"].sort(),
    );
    expect(guard.namesOf("sk-env-4d1c9b7e")).toEqual(["OPENAI_API_KEY"]);
    expect(guard.namesOf("tok-file-91b2c3")).toEqual(["API_TOKEN from .env.local"]);
    expect(guard.namesOf("Url-Pa55-w0rd")).toEqual(["DATABASE_URL"]);
    // Everything is still redacted.
    expect(secrets.redact(text)).not.toMatch(/sk-env|test|session-value|development|bare-value/);
  });

  it("grows when a named secret is added", () => {
    const secrets = new KnownSecrets();
    expect(secrets.commitGuard().redactor.active).toBe(false);
    secrets.add(namedSecretsInEnvFile("DEPLOY_TOKEN=deploy-later-5e6f\n", "config/.env"));
    const guard = secrets.commitGuard();
    expect(guard.redactor.found("x deploy-later-5e6f")).toEqual(["deploy-later-5e6f"]);
    expect(guard.namesOf("deploy-later-5e6f")).toEqual(["DEPLOY_TOKEN from config/.env"]);
  });
});

describe("which credentials keep a file out of commits", () => {
  /** The values of `env` a committed file may not hold. */
  function barred(env: Record<string, string>): string[] {
    return namedSecretsInEnvironment(env)
      .filter((secret) => secret.barredFromCommits)
      .map((secret) => secret.value);
  }

  it("spares the words of stock settings, bars a random key even of letters alone", () => {
    expect(barred({ DATABASE_URL: "postgres://postgres:postgres@localhost:5432/app" })).toEqual([]);
    expect(barred({ POSTGRES_PASSWORD: "password", ADMIN_PASSWORD: "Password" })).toEqual([]);
    expect(barred({ API_KEY: "kQzPwXmRtYvBnHsL" })).toEqual(["kQzPwXmRtYvBnHsL"]);
    expect(barred({ DB_PASSWORD: "CorrectHorseBatteryStaple" })).toEqual([
      "CorrectHorseBatteryStaple",
    ]);
  });

  it("bars a PEM key and its body lines, not its armour", () => {
    const body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
    const pem = `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`;
    const found = barred({ APP_PRIVATE_KEY: pem });
    expect(found).toContain(pem);
    expect(found).toContain(body);
    expect(found).not.toContain("-----BEGIN PRIVATE KEY-----");
  });

  it("bars the secret values of a pretty-printed JSON credential, not its keys, URLs or address", () => {
    const json = JSON.stringify(
      {
        type: "service_account",
        private_key_id: "0123456789abcdef0123456789abcdef01234567",
        client_email: "builder@my-project.iam.gserviceaccount.com",
        token_uri: "https://oauth2.googleapis.com/token",
      },
      null,
      2,
    );
    const found = barred({ GOOGLE_CREDENTIALS: json });
    expect(found).toContain("0123456789abcdef0123456789abcdef01234567");
    expect(found).not.toContain("https://oauth2.googleapis.com/token");
    expect(found).not.toContain("builder@my-project.iam.gserviceaccount.com");
    expect(found.some((value) => value.includes("private_key_id") && !value.includes("{"))).toBe(
      false,
    );
  });
});
