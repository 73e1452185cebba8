// The run bundle is loaded through V8's code cache: written beside it when a process ends, used by
// the next, made again when V8 refuses it or it was made from another build, and never a reason
// to fail where it cannot be written. A bundle cut short is not loaded at all.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildSync } from "esbuild";
import { afterEach, describe, expect, it } from "vitest";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const DOUBLES = "exports.answer = (n) => n * 2;\nexports.file = __filename;\n";

/** Writes a bundle as scripts/bundle.mjs ends it: with the line naming its build. */
function writeBundle(file: string, body: string): void {
  const build = createHash("sha256").update(body).digest("hex");
  writeFileSync(file, `${body}//# conductor-build ${build}\n`);
}

/** A folder with a CommonJS bundle and a program that loads it and says what it got. */
function setUp(): { bundle: string; load: () => string } {
  dir = mkdtempSync(path.join(os.tmpdir(), "conductor-code-cache-"));
  const bundle = path.join(dir, "bundle.cjs");
  writeBundle(bundle, DOUBLES);
  buildSync({
    entryPoints: [path.resolve("src/cli/code-cache.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: path.join(dir, "code-cache.mjs"),
    logLevel: "silent",
  });
  const program = path.join(dir, "program.mjs");
  writeFileSync(
    program,
    `import { loadWithCodeCache } from "./code-cache.mjs";
     const loaded = loadWithCodeCache(${JSON.stringify(bundle)});
     console.log(loaded === undefined ? "not loaded" : \`\${loaded.answer(21)} \${loaded.file}\`);`,
  );
  return {
    bundle,
    load: () => {
      const result = spawnSync(process.execPath, [program], { encoding: "utf8" });
      expect(result.status, result.stderr).toBe(0);
      return result.stdout.trim();
    },
  };
}

describe("loadWithCodeCache", () => {
  it("loads the bundle as Node's loader would, and leaves V8's code cache beside it at exit", () => {
    const { bundle, load } = setUp();
    expect(load()).toBe(`42 ${bundle}`);
    const cache = readFileSync(`${bundle}.v8-cache`);
    expect(cache.length).toBeGreaterThan(0);
    // Used as it is by the next start: not written again.
    expect(load()).toBe(`42 ${bundle}`);
    expect(readFileSync(`${bundle}.v8-cache`).equals(cache)).toBe(true);
  });

  it("makes the cache again when V8 refuses it", () => {
    const { bundle, load } = setUp();
    expect(load()).toBe(`42 ${bundle}`);
    // This build's header (its first line), then data V8 cannot use.
    const made = readFileSync(`${bundle}.v8-cache`);
    const header = made.subarray(0, made.indexOf(10) + 1);
    writeFileSync(`${bundle}.v8-cache`, Buffer.concat([header, Buffer.from("not a cache")]));
    expect(load()).toBe(`42 ${bundle}`);
    const cache = readFileSync(`${bundle}.v8-cache`);
    expect(cache.subarray(0, header.length).equals(header)).toBe(true);
    expect(cache.length).toBeGreaterThan(header.length + "not a cache".length);
  });

  it("never runs a cache made from another build of the same length", () => {
    // V8 checks only the source's length: it would run the old build's functions (42, not 63).
    const { bundle, load } = setUp();
    expect(load()).toBe(`42 ${bundle}`);
    const triples = DOUBLES.replace("n * 2", "n * 3");
    expect(triples.length).toBe(DOUBLES.length);
    writeBundle(bundle, triples);
    expect(load()).toBe(`63 ${bundle}`);
    // And the cache is made again for the new build.
    expect(load()).toBe(`63 ${bundle}`);
  });

  it("never runs a cache made before the bundle was edited in place, its build line kept", () => {
    const { bundle, load } = setUp();
    expect(load()).toBe(`42 ${bundle}`);
    const text = readFileSync(bundle, "utf8");
    writeFileSync(bundle, text.replace("n * 2", "n * 3"));
    expect(readFileSync(bundle, "utf8").length).toBe(text.length);
    expect(load()).toBe(`63 ${bundle}`);
  });

  it("does not load a bundle cut short, and writes no cache for it", () => {
    const { bundle, load } = setUp();
    truncateSync(bundle, DOUBLES.length - 10);
    expect(load()).toBe("not loaded");
    expect(readdirSync(path.dirname(bundle))).not.toContain("bundle.cjs.v8-cache");
  });

  it("finds the line naming its build at the end of the run bundle the build wrote, and strict mode at its start", () => {
    const text = readFileSync(path.resolve("dist/run/run-program.cjs"), "utf8");
    // The ES modules it is made of run in strict mode: the directive must come first.
    expect(text.startsWith('"use strict";\n')).toBe(true);
    const match = /\n\/\/# conductor-build ([0-9a-f]{64})\n$/.exec(text);
    expect(match).not.toBeNull();
    const body = text.slice(0, text.length - (match?.[0].length ?? 0) + 1);
    expect(createHash("sha256").update(body).digest("hex")).toBe(match?.[1]);
  });

  it("loads where the cache can be neither read nor written, and leaves nothing behind", () => {
    const { bundle, load } = setUp();
    // A folder in the cache's place: reading it fails, and so does renaming a file onto it (as
    // root too, where a read-only folder would not stop the write).
    mkdirSync(`${bundle}.v8-cache`);
    const before = readdirSync(path.dirname(bundle)).sort();
    expect(load()).toBe(`42 ${bundle}`);
    expect(readdirSync(path.dirname(bundle)).sort()).toEqual(before);
  });
});
