// What commits hold, read from git's objects: the files a range of commits added or changed, and
// their contents as bytes, in bounded batches.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { blobsCommitted, readBlobs } from "../../src/git/committed-blobs.js";
import { createTestRepo, headCommit, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("blobsCommitted", () => {
  it("lists every file each commit of the range added or changed with its blob, merges included, deletions left out", async () => {
    const test = await createTestRepo({ "README.md": "# r\n", "gone.txt": "bye\n" });
    repo = test;
    const start = await headCommit(test);
    await test.write({ "a.txt": "one\n", "dir/we ird.txt": "spaced\n" });
    await test.git("rm", "-q", "gone.txt");
    await test.commitAll("first");
    await test.write({ "a.txt": "two\n" });
    await test.commitAll("second");
    const second = await headCommit(test);
    await test.git("checkout", "-q", "-b", "side", start);
    await test.write({ "side.txt": "side\n" });
    await test.commitAll("side");
    await test.git("checkout", "-q", "main");
    await test.git("merge", "-q", "--no-ff", "-m", "merge side", "side");
    // Resolved in the merge itself: only the merge holds this content.
    await test.write({ "a.txt": "merged\n" });
    await test.git("commit", "-q", "--amend", "-a", "--no-edit");
    const blobs = await blobsCommitted(test.root, start, await headCommit(test));
    const shown = await Promise.all(
      blobs.map(
        async ({ file, blob }) => `${file}=${(await test.git("cat-file", "-p", blob)).trim()}`,
      ),
    );
    expect(shown.sort()).toEqual(
      ["a.txt=one", "a.txt=two", "a.txt=merged", "dir/we ird.txt=spaced", "side.txt=side"].sort(),
    );
    expect(await blobsCommitted(test.root, second, second)).toEqual([]);
  });
});

describe("readBlobs", () => {
  it("hands over each blob's bytes as stored, binary too, and skips blobs over the limit", async () => {
    const test = await createTestRepo({ "README.md": "# r\n" });
    repo = test;
    const start = await headCommit(test);
    const binary = Buffer.from([0, 1, 2, 0x0a, 0xff, 0xfe, 0x0a, 0x0a]);
    await test.write({ "text.txt": "héllo\n", "large.txt": "x".repeat(500) });
    await writeFile(path.join(test.root, "bin.dat"), binary);
    await test.commitAll("files");
    const blobs = await blobsCommitted(test.root, start, await headCommit(test));
    const read = new Map<string, Buffer>();
    await readBlobs(
      test.root,
      [...blobs.map((entry) => entry.blob), "0123456789012345678901234567890123456789"],
      100,
      (blob, content) =>
        read.set(blobs.find((entry) => entry.blob === blob)?.file ?? blob, content),
    );
    expect([...read.keys()].sort()).toEqual(["bin.dat", "text.txt"]);
    expect(read.get("bin.dat")).toEqual(binary);
    expect(read.get("text.txt")?.toString("utf8")).toBe("héllo\n");
  });
});
