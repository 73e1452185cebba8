#!/usr/bin/env node
import { commandWord } from "./command-name.js";

// The bundled CLI's stack traces point into the bundle; with --debug they name the TypeScript
// sources through the source maps beside it (off otherwise: mapping costs start-up time).
if (process.argv.includes("--debug") || process.env.CONDUCTOR_DEBUG) {
  process.setSourceMapsEnabled(true);
}

// A reader that goes away (`conductor run | head`: EPIPE) or a closed terminal (EIO, after SIGHUP)
// must not crash a run: the output stops, the work and its state files go on.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "EIO") throw error;
  });
}

/**
 * `run`, the command people start most and then wait on, has a bundle of its own beside this one
 * (dist/run/, see scripts/bundle.mjs): shared with no other command, its code comes in about 30
 * files instead of 60 (measured: the CPU of a one-task run 250 → 215 ms). Every other command
 * loads from this bundle, only what it needs.
 */
const RUN_BUNDLE = new URL("../run/run-program.js", import.meta.url).href;

/** The run bundle, or every command when there is none (main.ts run from the sources). */
async function runBundle(): Promise<typeof import("./program.js")> {
  try {
    return await import(RUN_BUNDLE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw error;
    return import("./program.js");
  }
}

const cli = commandWord(process.argv) === "run" ? await runBundle() : await import("./program.js");
process.exitCode = await cli.runCli(process.argv);
