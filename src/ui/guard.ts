import { randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Who may talk to the page's server: requests naming it by its loopback address and port (a
 * DNS-rebinding page names another host), from no other origin than itself (a page elsewhere
 * cannot drive the actions), carrying the token of this start as the first path segment.
 */

/** A fresh token for one start of the server: 128 random bits, URL-safe. */
export function newToken(): string {
  return randomBytes(16).toString("base64url");
}

/** What a request is checked against. */
export interface GuardOptions {
  token: string;
  port: number;
}

/**
 * Why a request was refused, or the path below the token when it may pass; `redirect`: where the
 * page is when the request named the token without the slash after it.
 */
export type GuardVerdict =
  | { allowed: true; path: string; query: URLSearchParams; redirect?: string }
  | { allowed: false; status: 403 | 404 | 421; reason: string };

/** The Host values the server answers to: its loopback address and `localhost`, with its port. */
export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** Checks one request's Host, Origin and token; the path it names below the token when allowed. */
export function checkRequest(
  request: { url?: string | undefined; headers: Record<string, string | string[] | undefined> },
  options: GuardOptions,
): GuardVerdict {
  const hosts = allowedHosts(options.port);
  const host = single(request.headers.host)?.toLowerCase();
  if (host === undefined || !hosts.includes(host)) {
    return { allowed: false, status: 421, reason: "this server answers only to 127.0.0.1" };
  }
  const origin = single(request.headers.origin);
  // Browsers send Origin on every cross-origin request and on same-origin POSTs; an absent one
  // is a plain navigation or a same-origin GET, which the token covers.
  if (origin !== undefined && !hosts.some((allowed) => origin === `http://${allowed}`)) {
    return { allowed: false, status: 403, reason: `requests from ${origin} are refused` };
  }
  const url = new URL(request.url ?? "/", `http://${host}`);
  const [, first = "", ...rest] = url.pathname.split("/");
  if (!sameToken(first, options.token)) {
    return { allowed: false, status: 404, reason: "not found (the URL lacks this start's token)" };
  }
  // `/<token>` without its slash would serve the page, whose relative URLs then lose the token.
  if (rest.length === 0) {
    return {
      allowed: true,
      path: "/",
      query: url.searchParams,
      redirect: `/${first}/${url.search}`,
    };
  }
  return { allowed: true, path: `/${rest.join("/")}`, query: url.searchParams };
}

/** Compares tokens in constant time (a wrong guess must not tell how much of it was right). */
function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
