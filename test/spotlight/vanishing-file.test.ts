// Spotlight's snapshot of a checkout (spotlight/trees.ts) while a process renames a file in it
// again and again, as an agent's leftover may: a file or symbolic link gone between git listing
// the folder and reading it must not fail the snapshot (it ended a Spotlight watch). git words it
// three ways (unable to stat, open, readlink), each depending on the moment the file went.

import { execa } from "execa";
import { afterEach, expect, it } from "vitest";
import { snapshotWorktree } from "../../src/git/worktree-snapshot.js";
import { snapshotCheckout } from "../../src/spotlight/trees.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
});

it("snapshots a checkout while a file and a link in it are written and renamed away again and again (Spotlight's and a reviewer's snapshots)", async () => {
  repo = await createTestRepo({ "a.txt": "a\n" });
  const { root } = repo;
  // One loop per kind of entry, so that each renames as fast as the other.
  const churns = [
    'while :; do echo x > "$1/f.new" && mv -f "$1/f.new" "$1/f"; done',
    'while :; do ln -s f "$1/l.new" && mv -f "$1/l.new" "$1/l"; done',
  ].map((loop) => execa("sh", ["-c", loop, "sh", root]));
  for (const churn of churns) churn.catch(() => {});
  let taken = 0;
  try {
    for (let i = 0; i < 100; i++) {
      await snapshotCheckout(root);
      await snapshotWorktree(root);
      taken++;
    }
  } finally {
    for (const churn of churns) churn.kill("SIGKILL");
  }
  expect(taken).toBe(100);
});
