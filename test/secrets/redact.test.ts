import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { KnownSecrets } from "../../src/secrets/known-secrets.js";
import { REDACTED, Redactor } from "../../src/secrets/redact.js";

const TRICKY = `a"quote\\back\nline-two-é<b>`;
/** An ordinary secret, for the spellings an agent may choose for its characters. */
const PLAIN = "supersecret-42xyz";

/** `text` as the body of a JSON string. */
function escaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** `unit` as a JSON `\uXXXX` escape. */
function u(unit: string, upper = false): string {
  const hex = unit.charCodeAt(0).toString(16).padStart(4, "0");
  return `\\u${upper ? hex.toUpperCase() : hex}`;
}

/** The shapes JSON encoders give a secret: escaped, ASCII-only, escaped twice. */
function jsonForms(secret: string): string[] {
  const asciiOnly = escaped(secret).replace(/[^\x20-\x7e]|[<>&]/g, (c) => u(c));
  return [secret, escaped(secret), asciiOnly, escaped(escaped(secret))];
}

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
      for (const form of jsonForms(TRICKY)) expect(redacted).not.toContain(form);
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

  it("replaces a secret with one character written as a \\u escape, in either case of hex", () => {
    const redactor = new Redactor([PLAIN]);
    for (const spelling of [
      `supersecret${u("-")}42xyz`,
      `${u("s")}upersecret-42xyz`,
      `supersecret-42xy${u("z")}`,
      `supersecret${u("-", true)}42xyz`,
      "supersecret\\u002D42xyz",
    ]) {
      expect(redactor.redact(`key ${spelling}!`), spelling).toBe(`key ${REDACTED}!`);
    }
  });

  it("replaces a secret with every character escaped, each its own way", () => {
    const redactor = new Redactor([PLAIN]);
    const units = PLAIN.split("");
    const lower = units.map((c) => u(c)).join("");
    const upper = units.map((c) => u(c, true)).join("");
    const mixed = units.map((c, i) => (i % 3 === 0 ? u(c, true) : i % 3 === 1 ? u(c) : c)).join("");
    for (const spelling of [lower, upper, mixed]) {
      expect(redactor.redact(jsonLine(spelling)), spelling).toBe(jsonLine(REDACTED));
    }
  });

  it("replaces mixed spellings escaped twice, as JSON quoted in JSON holds them", () => {
    const redactor = new Redactor([PLAIN]);
    // A tool printed JSON with escapes of its own (`\u0073uper…`), inside the agent's JSON event.
    const printed = `{"token":"${u("s")}uper${u("s", true)}ecret${u("-")}42xyz"}`;
    const line = jsonLine(printed);
    expect(line).toContain("\\\\u0073uper\\\\u0073ecret");
    expect(redactor.redact(line)).toBe(jsonLine(`{"token":"${REDACTED}"}`));
    // Escaped twice by hand, mixing levels of escaping from one character to the next.
    expect(redactor.redact(`x\\\\u0073upersecret\\u002D42xyz x`)).toBe(`x${REDACTED} x`);
  });

  it("replaces a secret whose escapes were escaped again each their own way (`\\\\\\/`, `\\u005c/`)", () => {
    const secret = 'abc/def"ghi\\12345';
    const redactor = new Redactor([secret]);
    // The inner encoder wrote `\/`, `\"` and `\\`; the outer one escaped both characters of each,
    // or only the backslash, or wrote the backslash as \u005c.
    const bodies = [
      'abc\\\\\\/def\\\\\\"ghi\\\\\\\\12345',
      'abc\\\\/def\\\\\\"ghi\\\\\\\\12345',
      `abc${u("\\")}\\/def${u("\\", true)}\\"ghi${u("\\")}${u("\\")}12345`,
      `abc\\\\${u("/")}def\\\\${u('"')}ghi\\\\${u("\\")}12345`,
    ];
    for (const body of bodies) {
      expect(redactor.redact(`"<${body}>"`), body).toBe(`"<${REDACTED}>"`);
    }
    // What a tool's JSON inside an agent's JSON event holds, written by JSON.stringify with
    // every slash escaped as well.
    const inner = JSON.stringify({ token: secret }).replaceAll("/", "\\/");
    const line = jsonLine(inner).replaceAll("\\\\/", "\\\\\\/");
    expect(line).toContain("abc\\\\\\/def");
    expect(redactor.redact(line)).not.toContain("ghi");
  });

  it("replaces a secret with a quote, a backslash, a newline and an emoji in any spelling", () => {
    const secret = 'q"b\\s\nl😀z';
    const [high, low] = "😀".split("") as [string, string];
    const redactor = new Redactor([secret]);
    expect(redactor.redact(`<${secret}>`)).toBe(`<${REDACTED}>`);
    const once = [
      escaped(secret),
      `q${u('"')}b${u("\\", true)}s${u("\n")}l${u(high, true)}${u(low)}z`,
      `q\\"b\\\\s\\u000Al${u(high)}${u(low)}z`,
    ];
    // Each is the body of a JSON string, so what is left must still be one.
    for (const body of [...once, ...once.map(escaped)]) {
      expect(redactor.redact(`"<${body}>"`), body).toBe(`"<${REDACTED}>"`);
    }
  });

  it("keeps an escaped backslash before an escaped secret, so the JSON still parses", () => {
    // `\\` then `\u0073upersecret…`: the secret starts at the third backslash, not the second.
    const line = jsonLine(`\\${u("s")}upersecret-42xyz`);
    const redacted = new Redactor([PLAIN]).redact(line);
    expect(redacted).toBe(jsonLine(`\\${REDACTED}`));
  });

  it("replaces a secret that contains another whole, in any spelling", () => {
    const redactor = new Redactor(["inner-42", "outer-inner-42-end"]);
    expect(redactor.redact("outer-inner-42-end")).toBe(REDACTED);
    expect(redactor.redact(`outer${u("-")}inner-42${u("-")}end`)).toBe(REDACTED);
    expect(redactor.redact("just inner\\u002d42 here")).toBe(`just ${REDACTED} here`);
  });

  it("treats RegExp metacharacters in a secret as themselves", () => {
    const redactor = new Redactor(["a.b*c+(d)"]);
    expect(redactor.redact("a.b*c+(d)")).toBe(REDACTED);
    expect(redactor.redact(`a${u(".")}b*c${u("+")}${u("(")}d)`)).toBe(REDACTED);
    for (const lookalike of ["aXb*c+(d)", "a.bbbc+(d)", "a.b*cc(d)", "a.b*c+d", "a\\.b*c+(d)"]) {
      expect(redactor.redact(lookalike), lookalike).toBe(lookalike);
    }
  });

  it("leaves text that only looks like a secret", () => {
    const redactor = new Redactor([PLAIN]);
    for (const lookalike of [
      "supersecret\\u002e42xyz",
      "supersecret\\U002d42xyz",
      "supersecret\\u02d42xyz",
      "Supersecret-42xyz",
      "supersecret-42xy",
    ]) {
      expect(redactor.redact(lookalike), lookalike).toBe(lookalike);
    }
  });

  it("redacts a secret split over two chunks anywhere, even inside an escape", async () => {
    const redactor = new Redactor([PLAIN, TRICKY]);
    const line = jsonLine(`a ${u("s")}upersecret${u("-", true)}42xyz and ${escaped(TRICKY)} b`);
    expect(line).toContain("\\\\u002D42xyz");
    for (let cut = 0; cut <= line.length; cut++) {
      const out = await throughStream(redactor, [line.slice(0, cut), line.slice(cut)]);
      expect(out, `cut at ${cut}`).toBe(jsonLine(`a ${REDACTED} and ${REDACTED} b`));
    }
  });

  it("passes on at once what cannot begin a secret, and holds back only what can", () => {
    const stream = new Redactor([PLAIN]).stream();
    const plain = jsonLine('ordinary output: no secret here, not even {"s":1}');
    stream.write(Buffer.from(plain));
    expect(String(stream.read())).toBe(plain);
    // A tail that may still become the secret is held until the next chunk decides.
    stream.write(Buffer.from("then super\\u00"));
    expect(String(stream.read())).toBe("then ");
    stream.write(Buffer.from("73ecret-42xyz, then more"));
    expect(String(stream.read())).toBe(`${REDACTED}, then more`);
  });

  it("finds a secret of many thousand characters", () => {
    const secret = Array.from({ length: 2000 }, (_, i) => `line-${i}`).join("\n");
    const redactor = new Redactor([secret]);
    expect(redactor.redact(`<${secret}>`)).toBe(`<${REDACTED}>`);
    expect(redactor.redact(jsonLine(secret))).toBe(jsonLine(REDACTED));
  });

  it("finds each of a thousand secrets, in a stream too", async () => {
    const secrets = Array.from({ length: 1000 }, (_, i) => `${(i * 7919).toString(36)}-token-${i}`);
    const redactor = new Redactor(secrets);
    const spelled = secrets.map((secret, i) =>
      i % 2 ? escaped(`"${secret}"`) : u(secret[0] as string) + secret.slice(1),
    );
    const text = spelled.join(" ");
    const redacted = spelled.map((_, i) => (i % 2 ? `\\"${REDACTED}\\"` : REDACTED)).join(" ");
    expect(redactor.redact(text)).toBe(redacted);
    const chunks = Array.from({ length: Math.ceil(text.length / 997) }, (_, i) =>
      text.slice(i * 997, (i + 1) * 997),
    );
    expect(await throughStream(redactor, chunks)).toBe(redacted);
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
