// Spotlight's snapshot of a checkout (spotlight/trees.ts) while a process renames a file in it
// again and again, as an agent's leftover may: a file gone between git listing the folder and
// reading it must not fail the snapshot (it ended a Spotlight watch).

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, expect, it } from "vitest";
import { snapshotWorktree } from "../../src/git/worktree-snapshot.js";
import { snapshotCheckout } from "../../src/spotlight/trees.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("snapshots a checkout while a file in it is written and renamed away again and again (Spotlight's and a reviewer's snapshots)", async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "conductor-vanishing-"));
  const repo = dir;
  await execa("git", ["init", "-q", repo]);
  await writeFile(path.join(repo, "a.txt"), "a\n");
  await execa("git", ["-C", repo, "add", "a.txt"]);
  await execa("git", [
    "-C",
    repo,
    "-c",
    "user.name=t",
    "-c",
    "user.email=t@t",
    "commit",
    "-qm",
    "a",
  ]);
  const churn = execa("sh", [
    "-c",
    'while :; do echo x > "$1/f.new" && mv -f "$1/f.new" "$1/f"; done',
    "sh",
    repo,
  ]);
  churn.catch(() => {});
  let taken = 0;
  try {
    for (let i = 0; i < 100; i++) {
      await snapshotCheckout(repo);
      await snapshotWorktree(repo);
      taken++;
    }
  } finally {
    churn.kill("SIGKILL");
  }
  expect(taken).toBe(100);
});
