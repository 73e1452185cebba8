// The plumbing behind the post-agent check, on real repositories: reading refs and the main
// checkout's status.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  changedPaths,
  changedRefs,
  checkoutFingerprint,
  snapshotRefs,
  snapshotRepository,
  worktreeHead,
} from "../../src/git/integrity.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("ref snapshots and the checkout fingerprint", () => {
  it("name created, moved and deleted refs, and changed, new and rewritten files", async () => {
    const test = await createTestRepo({ "README.md": "# r\n", "notes.txt": "n\n" });
    repo = test;
    await test.git("branch", "gone");
    await test.git("branch", "moving");
    writeFileSync(path.join(test.root, "notes.txt"), "edited\n");
    const refsBefore = await snapshotRefs(test.root);
    const checkoutBefore = await checkoutFingerprint(test.root);
    await test.git("branch", "-D", "gone");
    await test.git("branch", "made");
    await test.write({ "moved.txt": "m\n" });
    await test.git("add", "moved.txt");
    await test.git("commit", "-qm", "moving on");
    await test.git("update-ref", "refs/heads/moving", "HEAD");
    // A further write to a file that was already modified counts too.
    writeFileSync(path.join(test.root, "notes.txt"), "edited again, longer\n");
    const changes = changedRefs(refsBefore, await snapshotRefs(test.root));
    expect(changes.map((change) => change.ref).sort()).toEqual([
      "refs/heads/gone",
      "refs/heads/made",
      "refs/heads/main",
      "refs/heads/moving",
    ]);
    expect(changes.find((change) => change.ref === "refs/heads/gone")?.after).toBeUndefined();
    expect(changes.find((change) => change.ref === "refs/heads/made")?.before).toBeUndefined();
    expect(changedPaths(checkoutBefore, await checkoutFingerprint(test.root))).toEqual([
      "notes.txt",
    ]);
  });
});

describe("snapshotRepository", () => {
  it("reads in one process what the separate reads read, odd file names and renames included", async () => {
    const test = await createTestRepo({ "README.md": "# r\n", "old name.txt": "o\n" });
    repo = test;
    await test.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/heads/main");
    const worktree = path.join(test.root, "..", "wt");
    await test.git("worktree", "add", "-q", "-b", "work", worktree);
    // Names with the characters the output is framed by: newline, \x01, spaces; an empty file.
    const odd = ["line\nbreak.txt", "\x01start.txt", "two  spaces.txt", "empty"];
    for (const name of odd) writeFileSync(path.join(worktree, name), name === "empty" ? "" : "x\n");
    for (const name of odd) writeFileSync(path.join(test.root, name), "y\n");
    await test.git("mv", "old name.txt", "new\nname.txt");
    mkdirSync(path.join(test.root, "workspaces"));
    writeFileSync(path.join(test.root, "workspaces", "ignored.txt"), "w\n");

    const snapshot = await snapshotRepository(test.root, { excluding: ["workspaces"], worktree });
    expect(snapshot.refs).toEqual(await snapshotRefs(test.root));
    expect(snapshot.refs.get("refs/remotes/origin/HEAD")?.symref).toBe("refs/heads/main");
    expect(snapshot.checkout).toEqual(await checkoutFingerprint(test.root, ["workspaces"]));
    expect([...snapshot.checkout.keys()]).toEqual(
      expect.arrayContaining(["(HEAD)", "new\nname.txt", ...odd]),
    );
    expect(snapshot.worktree?.head).toEqual(await worktreeHead(worktree));
    expect(snapshot.worktree?.head.ref).toBe("refs/heads/work");

    // Clean worktree, detached HEAD, no worktree asked for.
    for (const name of odd) await test.git("-C", worktree, "add", name);
    await test.git("-C", worktree, "commit", "-qm", "odd names");
    await test.git("-C", worktree, "switch", "-q", "--detach");
    const clean = await snapshotRepository(test.root, { excluding: [], worktree });
    expect(clean.worktree?.head).toEqual(await worktreeHead(worktree));
    expect(clean.worktree?.head.ref).toBeUndefined();
    expect(clean.checkout).toEqual(await checkoutFingerprint(test.root));
    const refsOnly = await snapshotRepository(test.root, { excluding: [] });
    expect(refsOnly.worktree).toBeUndefined();
    expect(refsOnly.refs.get("refs/heads/work")?.oid).toBe(clean.worktree?.head.commit);
  });
});
