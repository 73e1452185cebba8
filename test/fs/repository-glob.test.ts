// The one glob of copy and context entries: links inside the repository are followed, a link out
// of it is reported and never crawled; the copy step refuses one that appeared after the config
// was checked.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OperationError } from "../../src/errors.js";
import { copyIntoWorkspace, placeContextFiles } from "../../src/executor/copy-files.js";
import { globRepositoryFiles, matchRepositoryFiles } from "../../src/fs/repository-glob.js";

let top: string;
let root: string;
let outside: string;

beforeEach(() => {
  top = mkdtempSync(path.join(os.tmpdir(), "conductor-glob-"));
  root = path.join(top, "repo");
  outside = path.join(top, "outside");
  mkdirSync(path.join(root, "config"), { recursive: true });
  mkdirSync(path.join(outside, "deep"), { recursive: true });
  writeFileSync(path.join(root, "config", "dev.env"), "MODE=dev\n");
  writeFileSync(path.join(outside, "secret.env"), "S=1\n");
  writeFileSync(path.join(outside, "deep", "more.env"), "S=2\n");
  symlinkSync("config/dev.env", path.join(root, ".env.local"));
  symlinkSync("config", path.join(root, "shared"));
});

afterEach(() => rmSync(top, { recursive: true, force: true }));

describe("globRepositoryFiles", () => {
  it("follows links that stay inside the repository", async () => {
    expect(await globRepositoryFiles(root, "**/*.env")).toEqual({
      files: ["config/dev.env", "shared/dev.env"],
      linksOut: [],
    });
    expect((await globRepositoryFiles(root, ".env.local")).files).toEqual([".env.local"]);
  });

  it("reports a linked file and a linked folder out of the repository, without listing the folder", async () => {
    symlinkSync(path.join(outside, "secret.env"), path.join(root, "leak.env"));
    symlinkSync(outside, path.join(root, "linked"));
    const found = await globRepositoryFiles(root, "**/*.env");
    expect(found.files).toEqual(["config/dev.env", "shared/dev.env"]);
    expect(found.linksOut).toEqual([
      { path: "leak.env", target: path.join(outside, "secret.env") },
      { path: "linked", target: outside },
    ]);
  });

  it("reports a folder named plainly that is a link out, and a glob that starts in one", async () => {
    symlinkSync(outside, path.join(root, "linked"));
    for (const written of ["linked", "linked/", "linked/**", "linked/deep/*.env"]) {
      const found = await matchRepositoryFiles(root, written);
      expect(found.files, written).toEqual([]);
      expect(
        found.linksOut.map((link) => link.path),
        written,
      ).toEqual([written.startsWith("linked/deep") ? "linked/deep" : "linked"]);
    }
  });

  it("leaves alone links out that the pattern does not reach", async () => {
    symlinkSync(path.join(outside, "secret.env"), path.join(root, "leak.env"));
    symlinkSync(outside, path.join(root, "linked"));
    expect(await globRepositoryFiles(root, "config/*.env")).toEqual({
      files: ["config/dev.env"],
      linksOut: [],
    });
  });
});

describe("the copy step", () => {
  it("refuses a link out that appeared after the config was checked, copying nothing of it", async () => {
    const worktree = path.join(top, "worktree");
    mkdirSync(worktree);
    symlinkSync(outside, path.join(root, "linked"));
    const copying = copyIntoWorkspace(root, worktree, [{ pattern: "linked/**", mode: "copy" }]);
    await expect(copying).rejects.toThrow(OperationError);
    await expect(copying).rejects.toThrow(/linked links to .*outside, outside the repository/);
    await expect(placeContextFiles(root, worktree, ["linked/**"])).rejects.toThrow(
      /outside the repository/,
    );
  });
});
