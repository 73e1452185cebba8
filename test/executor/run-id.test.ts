// Run ids sort by creation: `clean`, `report` and `--resume` without an id take the latest by order.
import { describe, expect, it } from "vitest";
import { newRunId } from "../../src/executor/run-store.js";

describe("run ids", () => {
  it("sort by creation time also within one second", () => {
    const start = Date.parse("2026-12-04T20:31:02.000Z");
    // A random part that falls as it goes: sorting by it would reverse the order.
    const ids = [5, 120, 121, 999].map((ms, i) =>
      newRunId(new Date(start + ms), () => 0.99 - i * 0.3),
    );
    expect([...ids].sort()).toEqual(ids);
  });

  it("keep the UTC date and time to the millisecond, then two hex digits", () => {
    const id = newRunId(new Date("2026-12-04T20:31:02.045Z"), () => 0.5);
    expect(id).toBe("20261204-203102-04580");
  });

  it("differ for runs started in the same millisecond", () => {
    const now = new Date("2026-12-04T20:31:02.045Z");
    expect(newRunId(now, () => 0.1)).not.toBe(newRunId(now, () => 0.7));
  });
});
