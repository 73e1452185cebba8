#!/usr/bin/env node
// First: the environment as conductor was started with it, for every program it starts.
import "./restore-environment.js";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import { loadWithCodeCache } from "./code-cache.js";
import { commandWord } from "./command-name.js";

const command = commandWord(process.argv);

/**
 * Node's modules a run requires that are not loaded by the time main.ts runs (seen in
 * process.moduleLoadList at the end of a run): child_process brings net and dgram along.
 */
const RUN_BUILTINS = [
  "node:child_process",
  "node:os",
  "node:fs/promises",
  "node:timers/promises",
  "node:assert",
  "node:constants",
  "node:diagnostics_channel",
];

// Node's own modules compile from its code cache only under the V8 flags Node started with: any
// module first required after the flag below compiles from its source (measured: the nine a run
// requires after start-up, child_process and net among them, 9.3 ms against 4.0 ms loaded before
// it). A run needs them all, so they are loaded first; other commands load what they need later.
if (command === "run") {
  const require = createRequire(import.meta.url);
  for (const name of RUN_BUILTINS) require(name);
}

// V8 sends a function to its optimizing compiler (TurboFan, on a thread of its own) once it has
// run through its interrupt budget three times. Conductor's own code is bookkeeping called a few
// times per workspace, and that compiling cost a 64-workspace run with instant agents about 100
// ms of CPU (the compiler threads' samples in a profile), a tenth of the process. With eight
// times the budget, bookkeeping stays in V8's baseline code while loops over real volume (the
// redactor over megabytes of agent output) still get optimized within milliseconds. Measured:
// conductor's own CPU at 64 workspaces 713 -> 621 ms (medians of 7 paired rounds; the 32 x 50 MB
// output run 7.8 s against 7.9 s). Set before the run bundle loads; its code cache is made and
// checked under the same flags.
v8.setFlagsFromString("--interrupt-budget=540672");

// The bundled CLI's stack traces point into the bundle; with --debug they name the TypeScript
// sources through the source maps beside it (off otherwise: mapping costs start-up time).
const debugging = process.argv.includes("--debug") || Boolean(process.env.CONDUCTOR_DEBUG);
if (debugging) process.setSourceMapsEnabled(true);

// A reader that goes away (`conductor run | head`: EPIPE) or a closed terminal (EIO, after SIGHUP)
// must not crash a run: the output stops, the work and its state files go on.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "EIO") throw error;
  });
}

/**
 * `run`, the command people start most and then wait on, has a bundle of its own beside this one
 * (dist/run/, see scripts/bundle.mjs): one CommonJS file shared with no other command, loaded
 * through V8's code cache (see code-cache.ts). Every other command loads from this bundle, only
 * what it needs. With --debug, the run bundle is loaded plainly, so that its source map turns
 * stack traces back into the TypeScript sources.
 */
const RUN_BUNDLE = new URL("../run/run-program.cjs", import.meta.url);

/**
 * The run bundle, or every command (`run` included) when there is none (main.ts run from the
 * sources) or it lacks its last line: a file cut short would not compile.
 */
async function runBundle(): Promise<typeof import("./program.js")> {
  const file = fileURLToPath(RUN_BUNDLE);
  if (!existsSync(file)) return import("./program.js");
  if (debugging) return createRequire(import.meta.url)(file);
  // The cache is made from a process that ran a session through (see code-cache.ts).
  const ranSession = (bundle: Record<string, unknown>) =>
    (bundle as Partial<typeof import("./run-program.js")>).sessionRan?.() === true;
  const loaded = loadWithCodeCache(file, ranSession) as typeof import("./program.js") | undefined;
  return loaded ?? import("./program.js");
}

const cli = command === "run" ? await runBundle() : await import("./program.js");
process.exitCode = await cli.runCli(process.argv);
