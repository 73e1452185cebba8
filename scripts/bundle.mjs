// Bundles the CLI into dist/bin/ (the `conductor` bin): one file per command, loaded on demand,
// instead of some 150 modules and their packages resolved one by one at every start (measured:
// CPU of `run --dry-run` 0.38 s → 0.22 s), and `run` once more on its own into dist/run/.
// Source maps stay beside them; --debug turns them on.
import { readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

const options = {
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
};
// Every command; `run` too when named through `conductor` --help and the like.
const all = await build({
  ...options,
  entryPoints: ["src/cli/main.ts"],
  outdir: "dist/bin",
  entryNames: "conductor",
});
// `run` alone, which dist/bin/conductor.js hands a `run` command line to. Its code shares chunks
// with no other command's, so esbuild cuts it into some 30 files instead of 60: fewer files to
// resolve and read at every start (measured: the run's CPU 274 → 233 ms under load).
const run = await build({
  ...options,
  entryPoints: ["src/cli/run-program.ts"],
  outdir: "dist/run",
  entryNames: "[name]",
});
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
