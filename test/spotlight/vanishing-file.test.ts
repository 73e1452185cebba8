// Spotlight's snapshot of a checkout (spotlight/trees.ts) while a process renames a file in it
// again and again, as an agent's leftover may: a file gone between git listing the folder and
// reading it must not fail the snapshot (it ended a Spotlight watch).

import { execa } from "execa";
import { afterEach, expect, it } from "vitest";
import { snapshotWorktree } from "../../src/git/worktree-snapshot.js";
import { snapshotCheckout } from "../../src/spotlight/trees.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
});

it("snapshots a checkout while a file in it is written and renamed away again and again (Spotlight's and a reviewer's snapshots)", async () => {
  repo = await createTestRepo({ "a.txt": "a\n" });
  const { root } = repo;
  const churn = execa("sh", [
    "-c",
    'while :; do echo x > "$1/f.new" && mv -f "$1/f.new" "$1/f"; done',
    "sh",
    root,
  ]);
  churn.catch(() => {});
  let taken = 0;
  try {
    for (let i = 0; i < 100; i++) {
      await snapshotCheckout(root);
      await snapshotWorktree(root);
      taken++;
    }
  } finally {
    churn.kill("SIGKILL");
  }
  expect(taken).toBe(100);
});
