import { describe, expect, it } from "vitest";
import { checkRequest, newToken } from "../../src/ui/guard.js";

const options = { token: "abcdefghijklmnop", port: 32700 };

describe("the page server's request guard", () => {
  it("lets through a request naming 127.0.0.1 or localhost with the token", () => {
    for (const host of ["127.0.0.1:32700", "localhost:32700"]) {
      const verdict = checkRequest(
        { url: "/abcdefghijklmnop/api/state?run=1", headers: { host } },
        options,
      );
      expect(verdict).toMatchObject({ allowed: true, path: "/api/state" });
      if (verdict.allowed) expect(verdict.query.get("run")).toBe("1");
    }
  });

  it("sends the token without its slash to the page's own address, where its relative URLs work", () => {
    const verdict = checkRequest(
      { url: "/abcdefghijklmnop?run=1", headers: { host: "127.0.0.1:32700" } },
      options,
    );
    expect(verdict).toMatchObject({ allowed: true, redirect: "/abcdefghijklmnop/?run=1" });
    const page = checkRequest(
      { url: "/abcdefghijklmnop/", headers: { host: "127.0.0.1:32700" } },
      options,
    );
    expect(page).toMatchObject({ allowed: true, path: "/" });
    expect(page.allowed && page.redirect).toBeFalsy();
  });

  it("refuses a request without the token, with another token or a prefix of it", () => {
    for (const url of [
      "/",
      "/api/state",
      "/abcdefghijklmnoq/",
      "/abcdefgh/",
      "/abcdefghijklmnopq/",
    ]) {
      expect(checkRequest({ url, headers: { host: "127.0.0.1:32700" } }, options)).toMatchObject({
        allowed: false,
        status: 404,
      });
    }
  });

  it("refuses another Host header (DNS rebinding) and another port", () => {
    for (const host of ["evil.example:32700", "127.0.0.1:80", "127.0.0.1", undefined]) {
      expect(checkRequest({ url: "/abcdefghijklmnop/", headers: { host } }, options)).toMatchObject(
        { allowed: false, status: 421 },
      );
    }
  });

  it("refuses requests from another origin, also with the token", () => {
    for (const origin of [
      "http://evil.example",
      "http://127.0.0.1:1234",
      "null",
      "https://127.0.0.1:32700",
    ]) {
      expect(
        checkRequest(
          { url: "/abcdefghijklmnop/api/state", headers: { host: "127.0.0.1:32700", origin } },
          options,
        ),
      ).toMatchObject({ allowed: false, status: 403 });
    }
    expect(
      checkRequest(
        {
          url: "/abcdefghijklmnop/",
          headers: { host: "127.0.0.1:32700", origin: "http://localhost:32700" },
        },
        options,
      ),
    ).toMatchObject({ allowed: true });
  });

  it("makes a new 128-bit token at every start", () => {
    const tokens = new Set(Array.from({ length: 50 }, newToken));
    expect(tokens.size).toBe(50);
    for (const token of tokens) expect(token).toMatch(/^[\w-]{22}$/);
  });
});
