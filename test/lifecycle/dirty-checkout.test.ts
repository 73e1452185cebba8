// Edits not committed in the main checkout are not in the workspaces: a run says so, in one line.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";

let repo: ReviewRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("a dirty main checkout", () => {
  it("gets a one-line warning naming how many changed files the workspaces do not include", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    await writeFile(path.join(repo.root, "README.md"), "# edited, not committed\n");
    await writeFile(path.join(repo.root, "notes.txt"), "new, untracked\n");
    const result = await runAll(repo);
    expect(result.exitCode, result.all).toBe(0);
    const warnings = result.stderr.split("\n").filter((line) => line.includes("warning"));
    const base = (await repo.git("rev-parse", "main")).slice(0, 10);
    expect(warnings).toEqual([
      `conductor: warning: 2 changed files of the main checkout are not included in the workspaces, which start from main (${base}); commit them there to include them`,
    ]);
    // Indeed not included: the workspace has the committed README.
    expect(await repo.git("show", "conductor/hello:README.md")).toBe("# review");
  });

  it("says nothing when the main checkout is clean (its own run state does not count)", async () => {
    repo = await reviewRepo([{ id: "hello" }, { id: "world" }]);
    await runAll(repo, ["hello"]);
    const result = await runAll(repo, ["world"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stderr).not.toContain("warning");
  });
});
