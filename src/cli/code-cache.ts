import { isAscii } from "node:buffer";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import vm from "node:vm";

/**
 * The line scripts/bundle.mjs ends the run bundle with: `//# conductor-build <sha-256 of the
 * rest>`. It names the build, and its presence says the whole file was read.
 */
const BUILD_LINE = "//# conductor-build ";
const BUILD_ID = /^[0-9a-f]{64}$/;

/**
 * Loads a CommonJS bundle with V8's code cache beside it (`<file>.v8-cache`), so that its code is
 * not compiled again at every start. Node 20 keeps no code cache for ES modules, and loading the
 * run bundle compiled 1.8 MB of JavaScript each time (measured: 31 ms to compile, 11 ms with the
 * cache). The cache is written when the process ends, holding every function the process
 * compiled (not only the top level), whenever there was none, it was made for another build, or
 * V8 refused it (another Node version or other V8 flags); where the install folder is read-only,
 * every start compiles as before.
 *
 * What a cache holds depends on the process that made it: one made by `conductor run --help`, or
 * by a run refused for its config, holds the start-up only, and every later run compiled the rest
 * at first call (measured: a 16-workspace run's own CPU 331 ms with such a cache, 262 ms with one
 * made by a run). So the caller says at exit whether the process was `representative` (a run
 * that went through to its reports), the cache records it, and a cache made otherwise is made
 * again by the first process that is. Making one costs ~10 ms: a representative cache is never
 * made again, nor a partial one by another partial process.
 *
 * The cache begins with the build id of the bundle it was made from, the file's size, time of
 * change and inode, and its coverage. V8 itself compares only the source's length: given the
 * cache of another build of the same length, or of a bundle edited in place, it runs the
 * functions of the source it was made from. Returns undefined for a bundle without its build
 * line (cut short, or not made by scripts/bundle.mjs), which the caller then does not load.
 */
export function loadWithCodeCache(
  file: string,
  representative: (exports: Record<string, unknown>) => boolean = () => true,
): Record<string, unknown> | undefined {
  const fd = openSync(file, "r");
  let source: string;
  let stat: ReturnType<typeof fstatSync>;
  try {
    stat = fstatSync(fd);
    // The bundle is ASCII (esbuild escapes the rest; a test keeps it so), which reads as Latin-1
    // into the same string in half the time of decoding UTF-8 (1.3 MB: 1.7 against 3.1 ms).
    const bytes = readFileSync(fd);
    source = bytes.toString(isAscii(bytes) ? "latin1" : "utf8");
  } finally {
    closeSync(fd);
  }
  const build = buildId(source);
  if (build === undefined) return undefined;
  const cacheFile = `${file}.v8-cache`;
  const identity = `${build} ${stat.size} ${stat.mtimeMs} ${stat.ino}`;
  const cached = readCache(cacheFile, identity);
  // The wrapper Node's own CommonJS loader puts around a module.
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: file, ...(cached === undefined ? {} : { cachedData: cached.data }) },
  );
  const used = cached !== undefined && !script.cachedDataRejected;
  const module = { exports: {} as Record<string, unknown> };
  if (!used || cached.coverage === "partial") {
    process.once("exit", () => {
      const coverage: Coverage = representative(module.exports) ? "full" : "partial";
      if (used && coverage === "partial") return; // no better than the one there
      // Another conductor may have left a full one meanwhile: a partial one never replaces it.
      if (coverage === "partial" && readCache(cacheFile, identity)?.coverage === "full") return;
      saveCache(script, cacheFile, `${identity} ${coverage}`);
    });
  }
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper(module.exports, createRequire(file), module, file, path.dirname(file));
  return module.exports;
}

/** The build id on the bundle's last line, or undefined when that line is not there. */
function buildId(source: string): string | undefined {
  const at = source.lastIndexOf(BUILD_LINE);
  if (at === -1) return undefined;
  const id = source.slice(at + BUILD_LINE.length).trim();
  return BUILD_ID.test(id) ? id : undefined;
}

/**
 * Whether the process that made a cache went through the code every run uses (`full`), or ended
 * before (`partial`: a `--help`, a refused config).
 */
type Coverage = "full" | "partial";

/**
 * V8's data from the cache file and what it covers, when it was made from this build (its first
 * line: the build's identity, then the coverage); else undefined.
 */
function readCache(
  cacheFile: string,
  identity: string,
): { data: Buffer; coverage: Coverage } | undefined {
  let cache: Buffer;
  try {
    cache = readFileSync(cacheFile);
  } catch {
    return undefined; // none yet
  }
  const end = cache.indexOf(10);
  const firstLine = cache.subarray(0, Math.max(end, 0)).toString("latin1");
  const at = firstLine.lastIndexOf(" ");
  const coverage = firstLine.slice(at + 1);
  if (end === -1 || firstLine.slice(0, at) !== identity) return undefined;
  if (coverage !== "full" && coverage !== "partial") return undefined;
  return { data: cache.subarray(end + 1), coverage };
}

function saveCache(script: vm.Script, cacheFile: string, firstLine: string): void {
  // Beside it first, then renamed: a conductor starting meanwhile reads the old cache or the new.
  const written = `${cacheFile}.${randomBytes(6).toString("hex")}`;
  let fd: number;
  try {
    // Made before the cache data (~10 ms): a read-only install stops here, at no cost.
    fd = openSync(written, "wx");
  } catch {
    return; // the next start compiles again
  }
  try {
    try {
      writeFileSync(fd, `${firstLine}\n`, "latin1");
      writeFileSync(fd, script.createCachedData());
    } finally {
      closeSync(fd);
    }
    renameSync(written, cacheFile);
  } catch {
    rmSync(written, { force: true });
  }
}
