import { describe, expect, it } from "vitest";
import { findAddedMarkers } from "../../src/merge/added-lines.js";

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
