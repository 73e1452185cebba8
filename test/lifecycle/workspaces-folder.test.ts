// Two clones with the same folder name each get their own default workspaces folder.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, realpath, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { conductor } from "../helpers/cli.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

const cleanup: string[] = [];
afterEach(async () => {
  for (const dir of cleanup.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A repository at `<parent>/webapp` with one task and no workspaces.dir (the default). */
async function cloneNamedWebapp(parent: string): Promise<TestRepo> {
  const repo = await createTestRepo();
  const config = {
    version: 1,
    agent: { kind: "command", command: 'echo hi > "$CONDUCTOR_TASK_ID.txt"' },
    tasks: [{ id: "hello", prompt: "say hi" }],
  };
  await repo.write({ "conductor.yaml": stringify(config) });
  await repo.commitAll("add conductor.yaml");
  const root = path.join(parent, "webapp");
  await mkdir(parent, { recursive: true });
  await rename(repo.root, root);
  cleanup.push(path.dirname(repo.root));
  return { ...repo, root };
}

describe("the default workspaces folder", () => {
  it("differs for two clones with the same folder name, so both run side by side", async () => {
    const base = await realpath(await mkdtemp(path.join(os.tmpdir(), "conductor-clones-")));
    cleanup.push(base);
    const home = path.join(base, "home");
    await mkdir(home);
    const first = await cloneNamedWebapp(path.join(base, "one"));
    const second = await cloneNamedWebapp(path.join(base, "two"));
    for (const clone of [first, second]) {
      const result = await conductor(["run", "--output", "plain"], { cwd: clone.root, home });
      expect(result.exitCode, result.all).toBe(0);
    }
    const open = async (clone: TestRepo) =>
      (await conductor(["open", "hello"], { cwd: clone.root, home })).stdout.trim();
    const [one, two] = [await open(first), await open(second)];
    expect(one).not.toBe(two);
    for (const worktree of [one, two]) {
      expect(path.dirname(path.dirname(worktree))).toBe(
        path.join(home, ".conductor", "workspaces"),
      );
      expect(path.basename(path.dirname(worktree))).toMatch(/^webapp-[0-9a-f]{8}$/);
      expect(existsSync(path.join(worktree, "hello.txt"))).toBe(true);
    }
  });
});
