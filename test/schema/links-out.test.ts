// `workspaces.copy` and `workspaces.context` entries that reach a symlink out of the repository
// are refused when the config is loaded (validate, plan, run --dry-run, run): exit 2 with the
// entry located, and nothing created. The copy step used to find them only after each workspace's
// worktree and branch were made, and the run ended with exit 1.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { repoWithConfig } from "../helpers/run-repo.js";

let outside: string;
let repo: TestRepo | undefined;

beforeAll(() => {
  outside = mkdtempSync(path.join(os.tmpdir(), "conductor-outside-"));
  writeFileSync(path.join(outside, "outside.txt"), "outside\n");
  mkdirSync(path.join(outside, "folder"));
  writeFileSync(path.join(outside, "folder", "a.env"), "A=1\n");
});

afterAll(() => rmSync(outside, { recursive: true, force: true }));

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** A repository whose gitignored `link.txt` and `linked/` lead to the folder outside. */
async function repoWithLinksOut(workspaces: Record<string, unknown>): Promise<TestRepo> {
  repo = await repoWithConfig(
    {
      agent: { kind: "command", command: "echo work > work.txt" },
      workspaces,
      tasks: [{ id: "a", prompt: "p" }],
    },
    {
      ".gitignore": "link.txt\nlinked\n.env.local\n",
      "config/dev.env": "MODE=dev\n",
    },
  );
  symlinkSync(path.join(outside, "outside.txt"), path.join(repo.root, "link.txt"));
  symlinkSync(path.join(outside, "folder"), path.join(repo.root, "linked"));
  // A link that stays inside is fine.
  symlinkSync("config/dev.env", path.join(repo.root, ".env.local"));
  return repo;
}

async function expectRefusedBeforeAnything(
  current: TestRepo,
  args: string[],
  problem: RegExp,
): Promise<void> {
  const result: CliResult = await conductor(args, { cwd: current.root, home: current.home });
  expect(result.exitCode, result.all).toBe(2);
  expect(result.stderr).toMatch(problem);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect((await current.git("branch", "--list", "conductor/*")).trim()).toBe("");
  expect((await current.git("worktree", "list")).trim().split("\n")).toHaveLength(1);
  expect(await current.git("status", "--porcelain")).toBe("");
  expect(existsSync(path.join(current.root, ".conductor", "runs"))).toBe(false);
  expect(existsSync(path.join(current.home, "workspaces"))).toBe(false);
}

const COMMANDS = ["validate", "plan --json", "run --dry-run", "run --output plain"];

describe("a copy or context entry that reaches a link out of the repository", () => {
  it.each(COMMANDS)("a copied file that is one is refused by `%s` with exit 2", async (command) => {
    const current = await repoWithLinksOut({ copy: [".env.local", "link.txt"] });
    await expectRefusedBeforeAnything(
      current,
      command.split(" "),
      /conductor\.yaml:\d+:\d+: workspaces\.copy\[1\]: "link\.txt" is a link that points outside the repository/,
    );
  });

  it("a context link out is listed with a path problem of another entry, not after it is fixed", async () => {
    const current = await repoWithLinksOut({ context: ["../elsewhere.md", "link.txt"] });
    await expectRefusedBeforeAnything(current, ["validate"], /has 2 problems/);
    const result = await conductor(["validate"], { cwd: current.root, home: current.home });
    expect(result.stderr).toMatch(
      /conductor\.yaml:\d+:\d+: workspaces\.context\[0\]: "\.\.\/elsewhere\.md" leaves the repository/,
    );
    expect(result.stderr).toMatch(
      /conductor\.yaml:\d+:\d+: workspaces\.context\[1\]: "link\.txt" is a link that points outside the repository/,
    );
  });

  it("a copy glob that matches one, or goes through a linked folder, is refused, each located", async () => {
    const current = await repoWithLinksOut({
      copy: ["*.txt", { path: "**/*.env", mode: "symlink" }, "linked"],
    });
    const result = await conductor(["validate"], { cwd: current.root, home: current.home });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain("has 3 problems");
    expect(result.stderr).toMatch(
      /workspaces\.copy\[0\]: "\*\.txt" reaches link\.txt, which is a link that points outside the repository/,
    );
    expect(result.stderr).toMatch(
      /workspaces\.copy\[1\]: "\*\*\/\*\.env" reaches linked, which is a link that points outside/,
    );
    expect(result.stderr).toMatch(
      /workspaces\.copy\[2\]: "linked" is a link that points outside the repository/,
    );
  });

  it("context entries are refused the same way, a plain path and a glob", async () => {
    const current = await repoWithLinksOut({ context: ["link.txt", "linked/*.env"] });
    await expectRefusedBeforeAnything(
      current,
      ["run", "--output", "plain"],
      /workspaces\.context\[0\]: "link\.txt" is a link that points outside the repository/,
    );
    const result = await conductor(["validate"], { cwd: current.root, home: current.home });
    expect(result.stderr).toMatch(
      /workspaces\.context\[1\]: "linked\/\*\.env" reaches linked, which is a link that points outside/,
    );
  });

  it("links that stay inside the repository pass, and the run copies through them", async () => {
    const current = await repoWithLinksOut({ copy: [".env.local", "config/*.env"] });
    const result = await conductor(["run", "--output", "plain"], {
      cwd: current.root,
      home: current.home,
    });
    expect(result.exitCode, result.all).toBe(0);
    const worktree = path.join(current.home, "workspaces", "a");
    expect(readFileSync(path.join(worktree, ".env.local"), "utf8")).toBe("MODE=dev\n");
  });
});
