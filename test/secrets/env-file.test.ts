import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import {
  isEnvFile,
  secretsInEnvFile,
  secretsOfCopiedEnvFiles,
} from "../../src/secrets/env-file.js";

describe(".env files are read as dotenv reads them", () => {
  it("strips the quotes of a value followed by a comment", () => {
    expect(secretsInEnvFile('API_TOKEN="quoted-token-1" # rotated monthly\n')).toEqual([
      "quoted-token-1",
    ]);
    expect(secretsInEnvFile("API_TOKEN='single-quoted-2'   # note\n")).toEqual(["single-quoted-2"]);
  });

  it("drops a trailing comment of an unquoted value", () => {
    expect(secretsInEnvFile("API_TOKEN=bare-token-3 # a comment\n")).toEqual(["bare-token-3"]);
  });

  it("reads `export KEY=value` lines", () => {
    expect(
      secretsInEnvFile('export DB_PASSWORD="exported-pw"\nexport OTHER=plain-value\n'),
    ).toEqual(["exported-pw", "plain-value"]);
  });

  it("reads a multi-line quoted value whole and every line of it", () => {
    const pem = [
      "-----BEGIN TEST PRIVATE KEY-----",
      "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
      "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==",
      "-----END TEST PRIVATE KEY-----",
    ];
    const secrets = secretsInEnvFile(`SIGNING_KEY="${pem.join("\n")}"\nNEXT=after-the-key\n`);
    expect(secrets).toContain(pem.join("\n"));
    for (const line of pem) expect(secrets).toContain(line);
    expect(secrets).toContain("after-the-key");
  });

  it("expands \\n in a double-quoted value, as dotenv does", () => {
    expect(secretsInEnvFile('CERT="first-line\\nsecond-line"\n')).toEqual([
      "first-line\nsecond-line",
      "first-line",
      "second-line",
    ]);
  });

  it("keeps short values of secret-named keys, and drops short values of other keys", () => {
    const secrets = secretsInEnvFile("PGPASSWORD=pg12\nDB_PASS=abcd\nMODE=dev\nPORT=3000\nX=1\n");
    expect(secrets).toEqual(["pg12", "abcd"]);
  });

  it("never counts on/off words, or short numbers, as secrets", () => {
    expect(secretsInEnvFile("AUTH_ENABLED=true\nSESSION_TIMEOUT=3600\nFEATURE_X=false\n")).toEqual(
      [],
    );
    expect(secretsInEnvFile("ACCOUNT_PIN=48213907\n")).toEqual(["48213907"]);
  });

  it("takes the password out of a URL value, as written and decoded", () => {
    const secrets = secretsInEnvFile("DATABASE_URL=postgres://app:p%40ss-w0rd@db:5432/app\n");
    expect(secrets).toContain("p%40ss-w0rd");
    expect(secrets).toContain("p@ss-w0rd");
    expect(secrets).toContain("postgres://app:p%40ss-w0rd@db:5432/app");
  });

  it("skips comments, blank lines and lines that assign nothing", () => {
    expect(secretsInEnvFile("# API_TOKEN=commented-out\n\nnot an assignment\nEMPTY=\n")).toEqual(
      [],
    );
  });

  it("knows env files by name", () => {
    for (const name of [".env", ".env.local", "config/.env.production", "secrets.env", ".envrc"]) {
      expect(isEnvFile(name), name).toBe(true);
    }
    for (const name of ["env.ts", "config/settings.json", "environment.md"]) {
      expect(isEnvFile(name), name).toBe(false);
    }
  });

  it("never waits on an env file that an agent replaced by a FIFO", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "conductor-env-fifo-"));
    try {
      await execa("mkfifo", [path.join(dir, ".env.local")]);
      await writeFile(path.join(dir, ".env"), "API_TOKEN=regular-file-token\n");
      expect(await secretsOfCopiedEnvFiles(dir, [".env.local", ".env", "missing.env"])).toEqual([
        "regular-file-token",
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
