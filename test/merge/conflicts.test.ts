import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ConflictForecast } from "../../src/merge/conflicts.js";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** Two workspaces rewrite the README's first line; a third adds its own file. */
async function threeWorkspaces(): Promise<ReviewRepo> {
  const current = await reviewRepo([
    { id: "readme-a", agent: 'printf "# from a\\n" > README.md' },
    { id: "readme-b", agent: 'printf "# from b\\n" > README.md' },
    { id: "own-file" },
  ]);
  const result = await runAll(current);
  expect(result.exitCode, result.all).toBe(0);
  return current;
}

async function forecast(current: ReviewRepo): Promise<ConflictForecast> {
  const result = await current.cli(["conflicts", "--json"]);
  expect(result.exitCode, result.all).toBe(0);
  return JSON.parse(result.stdout) as ConflictForecast;
}

describe("conductor conflicts", () => {
  it("leaves a failed workspace out of the suggested order, saying why", async () => {
    repo = await reviewRepo([
      { id: "good" },
      { id: "broken", check: "echo the tests fail; exit 1" },
    ]);
    await runAll(repo);
    const printed = await repo.cli(["conflicts"]);
    expect(printed.exitCode, printed.all).toBe(0);
    expect(printed.stdout).toMatch(/^\s+1\. good$/m);
    expect(printed.stdout).not.toMatch(/^\s+\d\. broken$/m);
    expect(printed.stdout).toMatch(/not suggested: broken failed; .*checks broken/);
    const data = await forecast(repo);
    expect(data.order.land).toEqual(["good"]);
    expect(data.order.failed).toEqual(["broken"]);
  });

  it("finds the pair that edits the same line, the clean pairs, and an order that lands two", async () => {
    repo = await threeWorkspaces();
    const statusBefore = await repo.git("status", "--porcelain");
    const headBefore = await repo.git("rev-parse", "HEAD");
    const result = await forecast(repo);
    const pair = (a: string, b: string) =>
      result.pairs.find((entry) => entry.a === a && entry.b === b);
    expect(pair("readme-a", "readme-b")).toMatchObject({
      clean: false,
      files: ["README.md"],
      method: "merge-tree",
    });
    expect(pair("readme-a", "own-file")).toMatchObject({ clean: true, files: [] });
    expect(pair("readme-b", "own-file")).toMatchObject({ clean: true, files: [] });
    expect(result.workspaces.map((entry) => [entry.name, entry.againstBase.clean])).toEqual([
      ["readme-a", true],
      ["readme-b", true],
      ["own-file", true],
    ]);
    expect(result.order.land).toEqual(["own-file", "readme-a"]);
    expect(result.order.held).toEqual([{ name: "readme-b", conflictsWith: ["readme-a"] }]);
    // No checkout touched: the main checkout's status and HEAD are as they were.
    expect(await repo.git("status", "--porcelain")).toBe(statusBefore);
    expect(await repo.git("rev-parse", "HEAD")).toBe(headBefore);

    const text = await repo.cli(["conflicts"]);
    expect(text.exitCode, text.all).toBe(0);
    expect(text.stdout).toMatch(/readme-a \+ readme-b\s+CONFLICT README\.md/);
    expect(text.stdout).toContain("2 of 3 pairs merge cleanly.");
    expect(text.stdout).not.toContain("readme-a + own-file");
    expect(text.stdout).toContain("Suggested merge order (lands 2 of 3 without conflicts):");
    expect(text.stdout).toContain("  1. own-file\n  2. readme-a\n");
    expect(text.stdout).toContain("held: readme-b conflicts with readme-a");
    expect(text.stdout).toContain("Land the first with: conductor merge own-file");
  });

  it("checks each workspace against the base branch as it is now", async () => {
    repo = await threeWorkspaces();
    // The base moves on after the run: the README's first line changes on main too.
    await repo.write({ "README.md": "# changed on main\n" });
    await repo.commitAll("main edits the README");
    const result = await forecast(repo);
    expect(result.base.commit).toBe((await repo.git("rev-parse", "main")).trim());
    const against = Object.fromEntries(
      result.workspaces.map((entry) => [entry.name, entry.againstBase]),
    );
    expect(against["readme-a"]).toMatchObject({ clean: false, files: ["README.md"] });
    expect(against["readme-b"]).toMatchObject({ clean: false, files: ["README.md"] });
    expect(against["own-file"]).toMatchObject({ clean: true });
    expect(result.order.land).toEqual(["own-file"]);
    expect(result.order.held.map((entry) => entry.conflictsWith)).toEqual([["base"], ["base"]]);
    const readme = await readFile(path.join(repo.root, "README.md"), "utf8");
    expect(readme).toBe("# changed on main\n");
  });

  it("does not miss a file on one branch where the other has a folder", async () => {
    repo = await reviewRepo([
      { id: "as-file", agent: 'printf "x\\n" > thing' },
      { id: "as-folder", agent: 'mkdir thing && printf "y\\n" > thing/inside' },
    ]);
    await runAll(repo);
    const result = await forecast(repo);
    expect(result.pairs).toEqual([
      expect.objectContaining({ a: "as-file", b: "as-folder", clean: false, method: "merge-tree" }),
    ]);
  });
});
