// The plumbing behind the post-agent check, on real repositories: replaying commits without given
// paths, and reading refs and the main checkout's status.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  changedPaths,
  changedRefs,
  checkoutFingerprint,
  replayWithoutPaths,
  snapshotRefs,
  snapshotRepository,
  worktreeHead,
} from "../../src/git/integrity.js";
import { createTestRepo, headCommit, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("replayWithoutPaths", () => {
  it("takes the paths out of every commit, restores what the start point tracked, and keeps untouched commits, merges, authors and messages", async () => {
    const test = await createTestRepo({ "README.md": "# r\n", ".context/guide.md": "guide\n" });
    repo = test;
    const start = await headCommit(test);
    // A clean commit first: it keeps its id.
    await test.write({ "clean.txt": "clean\n" });
    await test.commitAll("clean work");
    const clean = await headCommit(test);
    await test.write({
      ".env.local": "TOKEN=x\n",
      ".context/guide.md": "edited\n",
      "a.txt": "a\n",
    });
    await test.git("add", "-f", ".env.local", ".context/guide.md", "a.txt");
    await test.git(
      "commit",
      "-q",
      "--author=Agent <agent@example.com>",
      "-m",
      "agent work\n\nwith a body",
    );
    // A side line merged back in.
    await test.git("checkout", "-q", "-b", "side", clean);
    await test.write({ "side.txt": "side\n" });
    await test.commitAll("side work");
    await test.git("checkout", "-q", "main");
    await test.git("merge", "-q", "--no-edit", "side");
    const tip = await headCommit(test);

    const replayed = await replayWithoutPaths(test.root, {
      from: start,
      to: tip,
      paths: [".env.local", ".context"],
    });
    expect(replayed.rewritten).toBe(2); // the agent's commit and the merge above it
    const files = (await test.git("ls-tree", "-r", "--name-only", replayed.tip)).split("\n");
    expect(files).toEqual(
      expect.arrayContaining(["README.md", "a.txt", "clean.txt", "side.txt", ".context/guide.md"]),
    );
    expect(files).not.toContain(".env.local");
    expect(await test.git("show", `${replayed.tip}:.context/guide.md`)).toBe("guide");
    const history = await test.git("log", "--format=%an|%s|%b", replayed.tip);
    expect(history).toContain("Agent|agent work|with a body");
    expect(await test.git("log", "--format=%H", replayed.tip)).toContain(clean);
    expect((await test.git("log", "--format=%p", "-1", replayed.tip)).split(" ")).toHaveLength(2);
    const everyPath = await test.git("log", "--format=", "--name-only", replayed.tip);
    expect(everyPath).not.toContain(".env.local");
    // Nothing of the checkout moved: the replay is plumbing only.
    expect(await headCommit(test)).toBe(tip);
  });
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
