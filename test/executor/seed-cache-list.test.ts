import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listEntries } from "../../src/executor/seed/cache.js";

let dir: string | undefined;
let mover: ReturnType<typeof spawn> | undefined;

afterEach(async () => {
  // Its whole group: a `mv` it started would go on moving under the removal below.
  if (mover?.pid !== undefined && mover.exitCode === null && mover.signalCode === null) {
    const closed = new Promise((resolve) => mover?.once("close", resolve));
    process.kill(-mover.pid, "SIGKILL");
    await closed;
  }
  mover = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("cache list", () => {
  it("lists what is there while another process removes and brings back an entry", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "conductor-cache-list-"));
    const repo = path.join(dir, "repo");
    const key = "0123456789abcdef0123456789abcdef";
    const kept = "fedcba9876543210fedcba9876543210";
    for (const name of [key, kept]) {
      mkdirSync(path.join(repo, name, "folders", "node_modules"), { recursive: true });
      for (let file = 0; file < 100; file++) {
        writeFileSync(path.join(repo, name, "folders", "node_modules", `f${file}.js`), "x");
      }
    }
    // Another conductor's clean, or a run replacing a damaged entry, moving it away and back.
    mover = spawn(
      "sh",
      ["-c", `cd '${repo}' && while :; do mv ${key} away && mv away ${key}; done`],
      { detached: true },
    );
    for (let round = 0; round < 60; round++) {
      const entries = await listEntries(dir);
      expect(entries.map((entry) => entry.key)).toContain(kept);
    }
  });
});
