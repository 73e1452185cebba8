import { existsSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { clearStaleLocks } from "../../src/git/stale-locks.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

describe("stale lock files", () => {
  let repo: TestRepo | undefined;
  afterEach(async () => {
    await repo?.remove();
    repo = undefined;
  });

  function oldLock(file: string): void {
    writeFileSync(file, "");
    const past = new Date(Date.now() - 10_000);
    utimesSync(file, past, past);
  }

  it("are removed when no process holds them and nothing works in the worktree", async () => {
    repo = await createTestRepo();
    const lock = path.join(repo.root, ".git", "index.lock");
    oldLock(lock);
    const report = await clearStaleLocks(repo.root, "main", 1_000);
    expect(report.removed).toEqual([lock]);
    expect(existsSync(lock)).toBe(false);
  });

  it("are left alone while a process works in the worktree: git may hold a lock it has closed", async () => {
    repo = await createTestRepo();
    const lock = path.join(repo.root, ".git", "index.lock");
    oldLock(lock);
    const worker = execa("sleep", ["5"], { cwd: repo.root, reject: false });
    try {
      const report = await clearStaleLocks(repo.root, "main", 1_000);
      expect(report.removed).toEqual([]);
      expect(report.held[0]).toContain("working in the worktree");
      expect(existsSync(lock)).toBe(true);
    } finally {
      worker.kill("SIGKILL");
      await worker;
    }
  });

  it("are left alone while young, even with nobody holding them open", async () => {
    repo = await createTestRepo();
    const lock = path.join(repo.root, ".git", "index.lock");
    writeFileSync(lock, "");
    const report = await clearStaleLocks(repo.root, "main", 500);
    expect(report.removed).toEqual([]);
    expect(existsSync(lock)).toBe(true);
  });
});
