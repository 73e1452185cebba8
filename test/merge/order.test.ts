import { describe, expect, it } from "vitest";
import { suggestMergeOrder } from "../../src/merge/order.js";

const conflictsAmong = (pairs: [string, string][]) => (a: string, b: string) =>
  pairs.some(([x, y]) => (x === a && y === b) || (x === b && y === a));

describe("suggestMergeOrder", () => {
  it("lands the workspace that blocks the fewest others first and holds what conflicts with it", () => {
    // hub conflicts with three; landing it first would hold three, landing the others holds one.
    const order = suggestMergeOrder(
      ["hub", "one", "two", "three"].map((name) => ({ name, work: 1, cleanAgainstBase: true })),
      conflictsAmong([
        ["hub", "one"],
        ["hub", "two"],
        ["hub", "three"],
      ]),
    );
    expect(order.land).toEqual(["one", "two", "three"]);
    expect(order.held).toEqual([{ name: "hub", conflictsWith: ["one", "two", "three"] }]);
  });

  it("breaks ties by the bigger change, then plan order, and holds base conflicts", () => {
    const order = suggestMergeOrder(
      [
        { name: "small", work: 2, cleanAgainstBase: true },
        { name: "big", work: 50, cleanAgainstBase: true },
        { name: "stale", work: 9, cleanAgainstBase: false },
        { name: "free", work: 1, cleanAgainstBase: true },
      ],
      conflictsAmong([["small", "big"]]),
    );
    expect(order.land).toEqual(["free", "big"]);
    expect(order.held).toEqual([
      { name: "stale", conflictsWith: ["base"] },
      { name: "small", conflictsWith: ["big"] },
    ]);
  });
});
