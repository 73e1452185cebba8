import { afterEach, describe, expect, it } from "vitest";
import { addedMarkers, findAddedMarkers } from "../../src/merge/added-lines.js";
import { createTestRepo, headCommit, type TestRepo } from "../helpers/git-repo.js";

describe("findAddedMarkers", () => {
  it("counts only added lines, numbered in the new file, and ignores removed ones", () => {
    const diff = [
      "diff --git a/src/a.ts b/src/a.ts",
      "--- a/src/a.ts",
      "+++ b/src/a.ts",
      "@@ -3 +3,2 @@ function a() {",
      "-  // TODO: removed, not added",
      "+  debugger;",
      "+  return 1; // FIXME later",
      "@@ -20,0 +21 @@",
      "+console.log('x')",
      "diff --git a/gone.ts b/gone.ts",
      "--- a/gone.ts",
      "+++ /dev/null",
      "@@ -1 +0,0 @@",
      "-// TODO: a deleted file",
    ].join("\n");
    expect(findAddedMarkers(diff).map((m) => `${m.file}:${m.line} ${m.marker}`)).toEqual([
      "src/a.ts:3 debugger",
      "src/a.ts:4 FIXME",
      "src/a.ts:21 console.log",
    ]);
  });
});

describe("findAddedMarkers against hostile diffs", () => {
  it("counts a hunk's lines by its header: an added line reading `++ /dev/null` hides nothing", () => {
    // The file's lines `++ /dev/null` and `debugger;` come out of `git diff -U0` as these.
    const diff = [
      "diff --git a/src/a.ts b/src/a.ts",
      "--- a/src/a.ts",
      "+++ b/src/a.ts",
      "@@ -1,0 +2,3 @@",
      "+++ /dev/null",
      "+debugger;",
      "+it.only('x', () => {});",
    ].join("\n");
    expect(findAddedMarkers(diff).map((m) => `${m.file}:${m.line} ${m.marker}`)).toEqual([
      "src/a.ts:3 debugger",
      "src/a.ts:4 .only(",
    ]);
  });

  it("names a file git quoted (non-ASCII or unusual bytes) by its name", () => {
    const diff = [
      'diff --git "a/caf\\303\\251.js" "b/caf\\303\\251.js"',
      "new file mode 100644",
      "--- /dev/null",
      '+++ "b/caf\\303\\251.js"',
      "@@ -0,0 +1 @@",
      "+debugger;",
    ].join("\n");
    expect(findAddedMarkers(diff).map((m) => `${m.file}:${m.line} ${m.marker}`)).toEqual([
      "café.js:1 debugger",
    ]);
  });
});

describe("addedMarkers in a real repository", () => {
  let repo: TestRepo | undefined;

  afterEach(async () => {
    await repo?.remove();
    repo = undefined;
  });

  /** A branch `work` off main adding `files`; returns the start and head commits. */
  async function branchAdding(
    current: TestRepo,
    files: Record<string, string>,
  ): Promise<{ start: string; head: string }> {
    const start = await headCommit(current);
    await current.git("checkout", "-q", "-b", "work");
    await current.write(files);
    await current.commitAll("work");
    const head = await headCommit(current);
    await current.git("checkout", "-q", "main");
    return { start, head };
  }

  it("reads added lines as text where attributes say `-diff` or `binary` (merged before)", async () => {
    // An earlier branch merged this; git then prints "Binary files differ" for every file.
    repo = await createTestRepo({ ".gitattributes": "* -diff\n*.ts binary\n", "a.js": "a\n" });
    const { start, head } = await branchAdding(repo, {
      "a.js": "a\ndebugger;\n",
      "b.test.ts": "it.only('x', () => {});\n",
    });
    const { markers: found } = await addedMarkers(repo.root, start, head);
    expect(found.map((m) => `${m.file}:${m.line} ${m.marker}`)).toEqual([
      "a.js:2 debugger",
      "b.test.ts:1 .only(",
    ]);
  });

  it("shows the lines themselves, not a textconv driver's version of them", async () => {
    repo = await createTestRepo({ ".gitattributes": "*.js diff=hide\n", "a.js": "a\n" });
    await repo.git("config", "diff.hide.textconv", "true");
    const { start, head } = await branchAdding(repo, { "a.js": "a\ndebugger;\n" });
    const { markers: found } = await addedMarkers(repo.root, start, head);
    expect(found.map((m) => `${m.file}:${m.line} ${m.marker}`)).toEqual(["a.js:2 debugger"]);
  });

  it("marks the markers of a file with NUL bytes (binary by git's own test) instead of hiding them", async () => {
    repo = await createTestRepo();
    const { start, head } = await branchAdding(repo, {
      "blob.bin": "\0\x01\x02\ndebugger\nconsole.log(1)\n",
      // A NUL in a comment makes a script binary to git; its `debugger` must still be seen.
      "hidden.js": "// \0\ndebugger;\n",
      "a.js": "debugger;\n",
    });
    const { markers: found } = await addedMarkers(repo.root, start, head);
    expect(found.map((m) => `${m.file}:${m.line} ${m.marker}${m.binary ? " binary" : ""}`)).toEqual(
      [
        "a.js:1 debugger",
        "blob.bin:2 debugger binary",
        "blob.bin:3 console.log binary",
        "hidden.js:2 debugger binary",
      ],
    );
  });

  it("reads at most maxBytes of the diff and says it was cut (a branch can add more than fits)", async () => {
    repo = await createTestRepo();
    const { start, head } = await branchAdding(repo, {
      "a.js": "debugger;\n",
      "big.txt": "x\n".repeat(100_000),
      "z.js": "debugger;\n",
    });
    const whole = await addedMarkers(repo.root, start, head);
    expect(whole.truncated).toBe(false);
    expect(whole.markers.map((m) => m.file)).toEqual(["a.js", "z.js"]);
    const cut = await addedMarkers(repo.root, start, head, 16 * 1024);
    expect(cut.truncated).toBe(true);
    expect(cut.markers.map((m) => m.file)).toEqual(["a.js"]);
  });
});
