import { describe, expect, it } from "vitest";
import { isSecretName, secretsInEnvironment, urlPasswords } from "../../src/secrets/names.js";

describe("secret-named variables", () => {
  it("recognises the usual names of credentials", () => {
    for (const name of [
      "OPENAI_API_KEY",
      "GITHUB_TOKEN",
      "DB_PASSWORD",
      "PGPASSWORD",
      "MYSQL_PWD",
      "JWT_SECRET",
      "CLIENT_SECRETS_JSON",
      "NEXTAUTH_SECRET",
      "GOOGLE_APPLICATION_CREDENTIALS",
      "SIGNING_PRIVATE_KEY",
      "STRIPE_APIKEY",
      "SENTRY_DSN",
      "SSH_PASSPHRASE",
      "npm_config__authToken",
    ]) {
      expect(isSecretName(name), name).toBe(true);
    }
  });

  it("leaves ordinary names and the system's session plumbing alone", () => {
    for (const name of [
      "GIT_AUTHOR_EMAIL",
      "PATH",
      "PWD",
      "OLDPWD",
      "HOME",
      "PORT",
      "NODE_ENV",
      "XDG_SESSION_CLASS",
      "DBUS_SESSION_BUS_ADDRESS",
      "SSH_AUTH_SOCK",
    ]) {
      expect(isSecretName(name), name).toBe(false);
    }
  });
});

describe("secrets of an environment", () => {
  it("takes secret-named values of four characters or more, and every line of a multi-line one", () => {
    expect(
      secretsInEnvironment({
        API_TOKEN: "tok1",
        SHORT_TOKEN: "abc",
        EMPTY_TOKEN: "",
        GIT_AUTHOR_EMAIL: "dev@example.com",
        MISSING_TOKEN: undefined,
        MULTI_SECRET: "line-one\nline-two",
      }),
    ).toEqual(["tok1", "line-one\nline-two", "line-one", "line-two"]);
  });

  it("takes values of names that only hint at a secret from six characters", () => {
    expect(
      secretsInEnvironment({
        SESSION_NAME: "user",
        BASIC_AUTH: "admin:hunter2",
        XDG_SESSION_TYPE: "wayland",
      }),
    ).toEqual(["admin:hunter2"]);
  });

  it("takes the password of any URL-shaped value, named like a secret or not", () => {
    expect(secretsInEnvironment({ DATABASE_URL: "postgres://user:s3cret-pw@db/app" })).toEqual([
      "s3cret-pw",
    ]);
    expect(secretsInEnvironment({ HTTP_PROXY: "http://proxy.internal:3128" })).toEqual([]);
  });

  it("reads a password up to the last @ before the host", () => {
    expect(urlPasswords("redis://:pa@ss@cache:6379")).toEqual(["pa@ss"]);
    expect(urlPasswords("mongodb://admin:@db")).toEqual([]);
    expect(urlPasswords("not a url user:pass@host")).toEqual([]);
    expect(urlPasswords("https://registry.example:8443/@scope/pkg")).toEqual([]);
  });
});
