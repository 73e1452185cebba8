import { afterEach, describe, expect, it } from "vitest";
import { findWorkspace } from "../../src/executor/find-workspace.js";
import { loadRun } from "../../src/executor/load-run.js";
import { landWorkspace } from "../../src/merge/land.js";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("landing a workspace", () => {
  it("refuses a branch that moved after the merge's checks looked at it, moving nothing", async () => {
    repo = await reviewRepo([{ id: "web" }]);
    await runAll(repo);
    const run = await loadRun(repo.root, repo.runIds()[0] as string);
    const found = findWorkspace(run, "web");
    const checked = await repo.git("rev-parse", found.workspace.branch);
    // Something moves the branch between the checks and the landing.
    await repo.git("-C", repo.worktree("web"), "commit", "--allow-empty", "-m", "unchecked");
    const main = await repo.git("rev-parse", "main");
    const refused = await landWorkspace(found, "merge", checked).catch((error: Error) => error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain(
      `web: ${found.workspace.branch} moved while it was being merged (checked at ${checked.slice(0, 10)}`,
    );
    expect((refused as Error).message).toContain("it was not merged");
    expect(await repo.git("rev-parse", "main")).toBe(main);
    // The head it was checked at lands.
    const now = await repo.git("rev-parse", found.workspace.branch);
    const landed = await landWorkspace(found, "merge", now);
    expect(landed.from).toBe(main);
    expect(await repo.git("rev-parse", "main")).toBe(landed.to);
  });
});
