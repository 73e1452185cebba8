// A run reserves all its port blocks in one locked write, before its worktrees exist.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { registryFile, reservePortBlocks } from "../../src/executor/ports.js";

let home: string | undefined;
afterEach(async () => {
  if (home) await rm(home, { recursive: true, force: true });
  home = undefined;
});

const request = (name: string, preferredIndex: number) => ({
  count: 10,
  preferredIndex,
  worktree: path.join(os.tmpdir(), "not-made-yet", name),
  workspace: name,
  runId: "20261204-120000-00000",
});

describe("run-wide port blocks", () => {
  it("reserves every workspace's block at once, held while the reserving conductor lives", async () => {
    home = await mkdtemp(path.join(os.tmpdir(), "conductor-ports-"));
    const blocks = await reservePortBlocks(home, [
      request("a", 0),
      request("b", 1),
      request("c", 2),
    ]);
    const starts = [...blocks.values()].map((block) => block.start).sort();
    expect(new Set(starts).size).toBe(3);
    const written = JSON.parse(await readFile(registryFile(home), "utf8"));
    expect(written.reservations).toHaveLength(3);
    expect(written.reservations.every((r: { pid: number }) => r.pid === process.pid)).toBe(true);

    // Another request (as from another run) does not take them although no worktree exists.
    const other = await reservePortBlocks(home, [{ ...request("d", 0), runId: "other" }]);
    expect(starts).not.toContain(other.get(request("d", 0).worktree)?.start);
  });

  it("reclaims a block whose worktree is gone and whose conductor has exited", async () => {
    home = await mkdtemp(path.join(os.tmpdir(), "conductor-ports-"));
    // Block 50 (20500): not one the first test reserved.
    const gone = { ...request("old", 50), start: 20500, pid: 2 ** 22 + 12345 }; // no such process
    await mkdir(path.dirname(registryFile(home)), { recursive: true });
    await writeFile(registryFile(home), JSON.stringify({ reservations: [gone] }));
    const blocks = await reservePortBlocks(home, [request("new", 50)]);
    expect(blocks.get(request("new", 50).worktree)).toBeDefined();
    // The dead reservation is dropped from the registry. (Which block the new request gets
    // depends on what else holds ports on this machine, so it is not asserted.)
    const written = JSON.parse(await readFile(registryFile(home), "utf8"));
    const worktrees = written.reservations.map((r: { worktree: string }) => r.worktree);
    expect(worktrees).not.toContain(gone.worktree);
    expect(worktrees).toContain(request("new", 50).worktree);
  });
});
