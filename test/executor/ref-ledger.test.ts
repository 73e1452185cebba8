// When an agent about to start may take the look a clean check just took as its baseline instead
// of reading the repository again: only a fresh look, only while no check can be putting refs
// back, and never across a check that repaired or refused something.
import { describe, expect, it } from "vitest";
import { RefLedger, type RepositoryLook, SHARED_LOOK_MS } from "../../src/executor/ref-ledger.js";

function look(takenAt: number): RepositoryLook {
  return {
    refs: new Map([["refs/heads/main", { oid: "a".repeat(40), symref: "" }]]),
    checkout: new Map(),
    spotlight: undefined,
    statuses: new Map([["one", "running"]]),
    takenAt,
    takenAtTime: Date.now(),
  };
}

describe("RefLedger's shared look", () => {
  it("hands out the newest clean check's look while it is fresh, and none after", () => {
    const ledger = new RefLedger();
    expect(ledger.recentLook(1000)).toBeUndefined();
    const first = look(1000);
    const second = look(1010);
    for (const clean of [second, first]) {
      ledger.checkStarted();
      ledger.checkEnded(clean);
    }
    expect(ledger.recentLook(1020)).toBe(second);
    expect(ledger.recentLook(1010 + SHARED_LOOK_MS)).toBe(second);
    expect(ledger.recentLook(1011 + SHARED_LOOK_MS)).toBeUndefined();
  });

  it("hands out none while a check runs: it may be putting refs back", () => {
    const ledger = new RefLedger();
    ledger.checkStarted();
    ledger.checkEnded(look(1000));
    ledger.checkStarted();
    expect(ledger.recentLook(1001)).toBeUndefined();
    ledger.checkEnded(look(1002));
    expect(ledger.recentLook(1003)?.takenAt).toBe(1002);
  });

  it("never hands out a look taken before a check that repaired or refused something ended", () => {
    const ledger = new RefLedger();
    const before = performance.now();
    ledger.checkStarted();
    ledger.checkStarted();
    ledger.checkEnded(undefined); // repaired a moved ref, after the other check's look
    ledger.checkEnded(look(before));
    expect(ledger.recentLook(before + 1)).toBeUndefined();
    const after = performance.now() + 1;
    ledger.checkStarted();
    ledger.checkEnded(look(after));
    expect(ledger.recentLook(after + 1)?.takenAt).toBe(after);
  });
});
