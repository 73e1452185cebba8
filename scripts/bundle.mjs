// Bundles the CLI into dist/bin/ (the `conductor` bin): one file per command, loaded on demand,
// instead of some 150 modules and their packages resolved one by one at every start (measured:
// CPU of `run --dry-run` 0.38 s → 0.22 s), and `run` once more on its own into dist/run/, as one
// CommonJS file loaded through V8's code cache.
// Source maps stay beside them; --debug turns them on.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

/**
 * fdir (under tinyglobby) looks for picomatch at start-up through a require() of its own, which a
 * bundle cannot see: every start then loaded picomatch's five files from node_modules and compiled
 * them without a code cache (3.6 ms), a second copy beside the one bundled for tinyglobby. fdir
 * uses it only for its own glob option, which tinyglobby does not call; it gets the bundled copy.
 * The build fails when fdir's code no longer reads as expected, so that the change is looked at.
 */
const fdirBundledPicomatch = {
  name: "fdir-bundled-picomatch",
  setup(build) {
    let patched = false;
    // A build that no longer reads fdir from this file (renamed, or its CommonJS build chosen)
    // would bundle it unchanged, silently: that fails too.
    build.onEnd(() => {
      if (!patched)
        throw new Error("fdir's dist/index.mjs was not bundled: see scripts/bundle.mjs");
    });
    build.onLoad({ filter: /[\\/]node_modules[\\/]fdir[\\/]dist[\\/]index\.mjs$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      const lookup = /__require\.resolve\("picomatch"\);\s*pm = __require\("picomatch"\);/;
      if (!lookup.test(source)) {
        throw new Error(
          `${args.path}: fdir no longer loads picomatch as scripts/bundle.mjs expects`,
        );
      }
      patched = true;
      const contents = `import __bundledPicomatch from "picomatch";\n${source.replace(lookup, "pm = __bundledPicomatch;")}`;
      return { contents, loader: "js" };
    });
  },
};

const options = {
  plugins: [fdirBundledPicomatch],
  chunkNames: "[name]-[hash]", // beside the entry: package-info finds package.json two levels up
  bundle: true,
  splitting: true, // each command stays its own chunk, imported only when it runs
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  // Packages written as CommonJS call require() for Node's modules; an ES module has none.
  banner: {
    js: "import { createRequire as __conductorRequire } from 'node:module'; const require = __conductorRequire(import.meta.url);",
  },
  logLevel: "warning",
  metafile: true,
  // Written by writeOutputs below, each file whole at once.
  write: false,
};

/**
 * Writes each output beside its place and renames it there, so that a conductor starting during a
 * build (a test, another terminal) reads the old file or the new one, never one cut short. The
 * run bundle ends with a line naming its build, the sha-256 of the rest: src/cli/code-cache.ts
 * uses only a cache made from the same build, and loads no bundle that lacks the line. A file that
 * starts with `#!` (the CLI's entry) is made executable, as esbuild does when it writes files
 * itself: bin/conductor runs it with node, and an older link or a user may run it directly.
 */
function writeOutputs(outputFiles) {
  for (const output of outputFiles) {
    let contents = output.contents;
    if (output.path.endsWith(".cjs")) {
      const build = createHash("sha256").update(contents).digest("hex");
      contents = Buffer.concat([contents, Buffer.from(`//# conductor-build ${build}\n`)]);
    }
    mkdirSync(path.dirname(output.path), { recursive: true });
    const partial = `${output.path}.${process.pid}.partial`;
    const executable = contents[0] === 0x23 && contents[1] === 0x21; // "#!"
    writeFileSync(partial, contents, { mode: executable ? 0o755 : 0o644 });
    renameSync(partial, output.path);
  }
}
// Every command; `run` too when named through `conductor` --help and the like.
const all = await build({
  ...options,
  entryPoints: ["src/cli/main.ts"],
  outdir: "dist/bin",
  entryNames: "conductor",
});
writeOutputs(all.outputFiles);
// `run` alone, which dist/bin/conductor.js hands a `run` command line to: one CommonJS file, so
// that it can be loaded through V8's code cache (src/cli/code-cache.ts; Node 20 has none for ES
// modules). Measured: compiling it 31 ms, 11 ms with the cache. `import.meta.url` (the package
// root, createRequire) becomes the bundle's own file URL.
const run = await build({
  ...options,
  splitting: false,
  format: "cjs",
  // Without comments and spaces, and with shorter syntax, it reads and loads in less time (1.9 MB
  // to 1.3 MB; loading it 22 to 19 ms, 16.5 ms with the Latin-1 read of src/cli/code-cache.ts).
  // Identifiers are not renamed: class names stay, which conductor's errors name themselves by
  // (src/errors.ts); minifySyntax drops only the own name of a function expression that nothing
  // inside refers to (a few in dependencies, whose names nothing reads). --debug maps stack traces
  // back to the sources.
  minifyWhitespace: true,
  minifySyntax: true,
  // "use strict" first: esbuild's own comes after the banner, where it is no directive, and the
  // ES modules this is made of (and the ES module bundle) run in strict mode.
  banner: {
    js: "\"use strict\";\nvar __conductorImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  define: { "import.meta.url": "__conductorImportMetaUrl" },
  entryPoints: ["src/cli/run-program.ts"],
  outfile: "dist/run/run-program.cjs",
});
writeOutputs(run.outputFiles);
const result = { metafile: { outputs: { ...all.metafile.outputs, ...run.metafile.outputs } } };

// Chunk names change with their content, and the bundle is all of dist/ (tsc only type-checks):
// whatever an older build left there would otherwise be packed and shipped. Stale files are
// removed after the new ones are written, never before: a conductor started meanwhile (a test,
// another terminal) must never find dist/bin/conductor.js missing.
const written = new Set(Object.keys(result.metafile.outputs).map((file) => path.resolve(file)));
for (const entry of readdirSync("dist", { recursive: true, withFileTypes: true })) {
  const file = path.resolve(entry.parentPath ?? entry.path, entry.name);
  if (entry.isFile() && !written.has(file)) rmSync(file, { force: true });
}
