#!/usr/bin/env node
import { runCli } from "./program.js";

// A reader that goes away (`conductor run | head`: EPIPE) or a closed terminal (EIO, after SIGHUP)
// must not crash a run: the output stops, the work and its state files go on.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "EIO") throw error;
  });
}

process.exitCode = await runCli(process.argv);
