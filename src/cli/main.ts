#!/usr/bin/env node
import { runCli } from "./program.js";

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

process.exitCode = await runCli(process.argv);
