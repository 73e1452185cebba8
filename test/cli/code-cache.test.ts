// The run bundle is loaded through V8's code cache: written beside it when a process ends, used by
// the next, made again when V8 refuses it, and never a reason to fail where it cannot be written.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildSync } from "esbuild";
import { afterEach, describe, expect, it } from "vitest";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A folder with a CommonJS bundle and a program that loads it and says what V8 did. */
function setUp(): { bundle: string; load: () => string } {
  dir = mkdtempSync(path.join(os.tmpdir(), "conductor-code-cache-"));
  const bundle = path.join(dir, "bundle.cjs");
  writeFileSync(bundle, "exports.answer = (n) => n * 2;\nexports.file = __filename;\n");
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
     console.log(loaded.answer(21), loaded.file);`,
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
    writeFileSync(`${bundle}.v8-cache`, "not a cache");
    expect(load()).toBe(`42 ${bundle}`);
    expect(readFileSync(`${bundle}.v8-cache`, "utf8")).not.toBe("not a cache");
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
