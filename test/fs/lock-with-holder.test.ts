// The lock that names its holder: a holder surely gone is told apart from one that may live (on
// another machine, in another container), and what cannot be told goes stale as before.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lockIsHeld, lockWithHolder, tryLockWithHolder } from "../../src/fs/lock-with-holder.js";
import { holderIsGone, thisProcess } from "../../src/process/holder.js";
import { tempDirForTest } from "../helpers/temp-homes.js";

/** proper-lockfile's smallest staleness. */
const STALE_MS = 2000;

describe("holderIsGone", () => {
  it("is false for this process and true for one that ended", () => {
    const self = thisProcess();
    expect(holderIsGone(self)).toBe(false);
    const ended = spawnSync(process.execPath, ["-e", "0"]).pid as number;
    expect(holderIsGone({ ...self, pid: ended })).toBe(true);
  });

  it("is true for a reused pid (another start time), false for another machine's pid", () => {
    const self = thisProcess();
    expect(holderIsGone({ ...self, start: "1" })).toBe(true);
    const ended = spawnSync(process.execPath, ["-e", "0"]).pid as number;
    expect(holderIsGone({ ...self, pid: ended, space: "another-boot pid:[1]" })).toBe(false);
    expect(holderIsGone({ pid: ended })).toBe(false);
  });
});

describe("lockWithHolder", () => {
  it("names this process in the lock and removes the lock whole on release", async () => {
    const dir = tempDirForTest("lock-");
    const file = path.join(dir, "ports.json");
    const release = await lockWithHolder(file, { stale: STALE_MS, waitMs: 5000 });
    const names = readdirSync(`${file}.lock`);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^holder-/);
    await release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("waits for staleness when the holder may live elsewhere, then takes the lock", async () => {
    const dir = tempDirForTest("lock-");
    const file = path.join(dir, "ports.json");
    mkdirSync(`${file}.lock`);
    writeFileSync(
      path.join(`${file}.lock`, "holder-elsewhere"),
      JSON.stringify({ pid: 1, start: "1", space: "another-boot pid:[1]" }),
    );
    const began = Date.now();
    const release = await lockWithHolder(file, { stale: STALE_MS, waitMs: 20_000 });
    // Not before the lock went untouched for STALE_MS (less the mtime's rounding).
    expect(Date.now() - began).toBeGreaterThanOrEqual(STALE_MS - 1000);
    await release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("takes an old empty lock (an older conductor's) as stale, as proper-lockfile did", async () => {
    const dir = tempDirForTest("lock-");
    const file = path.join(dir, "ports.json");
    mkdirSync(`${file}.lock`);
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, old, old);
    const release = await lockWithHolder(file, { stale: STALE_MS, waitMs: 1000 });
    await release();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it("gives up, saying so, when a live holder keeps the lock past the wait", async () => {
    const dir = tempDirForTest("lock-");
    const file = path.join(dir, "ports.json");
    const release = await lockWithHolder(file, { stale: STALE_MS, waitMs: 1000 });
    await expect(lockWithHolder(file, { stale: STALE_MS, waitMs: 300 })).rejects.toThrow(
      /stayed locked by another conductor/,
    );
    await release();
  });

  it("names its holder in the lock of a relative path too", async () => {
    const dir = tempDirForTest("lock-");
    const relative = path.relative(process.cwd(), path.join(dir, "ports.json"));
    const release = await lockWithHolder(relative, { stale: STALE_MS, waitMs: 5000 });
    expect(readdirSync(path.join(dir, "ports.json.lock"))[0]).toMatch(/^holder-/);
    await release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("waits out an old file standing at the lock's path and names it, without a bare ENOTDIR", async () => {
    const dir = tempDirForTest("lock-");
    const file = path.join(dir, "ports.json");
    writeFileSync(`${file}.lock`, "");
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(`${file}.lock`, old, old);
    await expect(lockWithHolder(file, { stale: STALE_MS, waitMs: 300 })).rejects.toThrow(
      /stayed locked by another conductor/,
    );
  });
});

/** A lock at `file` named by a process that has ended (in this pid space). */
function goneHoldersLock(file: string): void {
  const ended = spawnSync(process.execPath, ["-e", "0"]).pid as number;
  mkdirSync(`${file}.lock`);
  writeFileSync(
    path.join(`${file}.lock`, "holder-ended"),
    JSON.stringify({ ...thisProcess(), pid: ended }),
  );
}

describe("tryLockWithHolder and lockIsHeld", () => {
  it("report a live holder's lock held, and leave it alone", async () => {
    const dir = tempDirForTest("lock-");
    const file = path.join(dir, "key");
    const release = await lockWithHolder(file, { stale: STALE_MS, waitMs: 1000 });
    expect(await lockIsHeld(file, STALE_MS)).toBe(true);
    expect(await tryLockWithHolder(file, { stale: STALE_MS })).toBeUndefined();
    expect(readdirSync(`${file}.lock`)[0]).toMatch(/^holder-/);
    await release();
    expect(await lockIsHeld(file, STALE_MS)).toBe(false);
  });

  it("take a gone holder's fresh lock over at the first try, without waiting for staleness", async () => {
    const dir = tempDirForTest("lock-");
    const file = path.join(dir, "key");
    goneHoldersLock(file);
    expect(await lockIsHeld(file, 60_000)).toBe(false);
    const release = await tryLockWithHolder(file, { stale: 60_000, update: 1000 });
    expect(release).toBeDefined();
    const names = readdirSync(`${file}.lock`);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^holder-/);
    expect(await lockIsHeld(file, 60_000)).toBe(true);
    await release?.();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("keep a lock held past its staleness live while the holder touches it", async () => {
    const dir = tempDirForTest("lock-");
    const file = path.join(dir, "key");
    const release = await tryLockWithHolder(file, { stale: STALE_MS, update: 500 });
    expect(release).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, STALE_MS + 1000));
    expect(await lockIsHeld(file, STALE_MS)).toBe(true);
    expect(await tryLockWithHolder(file, { stale: STALE_MS })).toBeUndefined();
    await release?.();
  });
});
