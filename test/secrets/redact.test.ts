import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { KnownSecrets } from "../../src/secrets/known-secrets.js";
import { REDACTED, Redactor, secretForms } from "../../src/secrets/redact.js";

const TRICKY = `a"quote\\back\nline-two-é<b>`;

/** What a streaming agent prints for `text`: one JSON event per line. */
function jsonLine(text: string): string {
  return `${JSON.stringify({ type: "item.completed", item: { type: "agent_message", text } })}\n`;
}

async function throughStream(redactor: Redactor, chunks: string[]): Promise<string> {
  let out = "";
  for await (const chunk of Readable.from(chunks.map((c) => Buffer.from(c))).pipe(
    redactor.stream(),
  )) {
    out += String(chunk);
  }
  return out;
}

describe("Redactor", () => {
  it("replaces a secret as printed and as escaped in JSON, once or twice", () => {
    const redactor = new Redactor([TRICKY]);
    const raw = jsonLine(`the secret is ${TRICKY}!`);
    const nested = jsonLine(JSON.stringify({ output: TRICKY }));
    for (const text of [TRICKY, raw, nested]) {
      const redacted = redactor.redact(text);
      for (const form of secretForms(TRICKY)) expect(redacted).not.toContain(form);
      expect(redacted).toContain(REDACTED);
    }
    // The escaped form is replaced inside a JSON string, so the line still parses.
    expect(JSON.parse(redactor.redact(raw)).item.text).toBe(`the secret is ${REDACTED}!`);
  });

  it("replaces the ASCII-only escaping some encoders use (\\u00e9, \\u003c)", () => {
    const asciiOnly = JSON.stringify(TRICKY)
      .slice(1, -1)
      .replace(/[^\x20-\x7e]|[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    expect(new Redactor([TRICKY]).redact(`x${asciiOnly}x`)).toBe(`x${REDACTED}x`);
  });

  it("redacts an escaped secret split over two chunks of a stream", async () => {
    const redactor = new Redactor([TRICKY]);
    const line = jsonLine(TRICKY);
    const escaped = JSON.stringify(TRICKY).slice(1, -1);
    const cut = line.indexOf(escaped) + 5;
    const out = await throughStream(redactor, [line.slice(0, cut), line.slice(cut)]);
    expect(out).toBe(jsonLine(REDACTED));
  });

  it("passes text through when it knows no secrets", async () => {
    expect(await throughStream(new Redactor([]), ["plain ", "text"])).toBe("plain text");
  });
});

describe("KnownSecrets", () => {
  it("grows as secrets are added, and redacts with all of them", () => {
    const secrets = new KnownSecrets(["first-secret"]);
    expect(secrets.redact("first-secret second-secret")).toBe(`${REDACTED} second-secret`);
    secrets.add(["second-secret"]);
    expect(secrets.redact("first-secret second-secret")).toBe(`${REDACTED} ${REDACTED}`);
  });
});
