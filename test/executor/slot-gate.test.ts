// The slots of the concurrency limit, on their own: who gets one, in what order, and when a
// waiting workspace learns it will never have one.
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { SlotGate, type SlotVerdict } from "../../src/executor/slot-gate.js";
import type { Workspace } from "../../src/planner/types.js";

const workspace = (name: string) => ({ name }) as Workspace;
const ORDER = ["a", "b", "c", "d"];

function gate(size: number, judge: () => SlotVerdict = () => "go") {
  let changes = 0;
  const slots = new SlotGate(
    size,
    judge,
    (name) => ORDER.indexOf(name),
    () => changes++,
  );
  return { slots, changes: () => changes };
}

/** Starts `name` and asks for a slot; says whether it had to wait, and what it got. */
function ask(slots: SlotGate, name: string, signal = new AbortController().signal) {
  slots.enter(name);
  const result = { waited: false, outcome: undefined as undefined | "slot" | string };
  void slots
    .acquire(workspace(name), "agent", signal, () => {
      result.waited = true;
    })
    .then((refused) => {
      result.outcome = refused === undefined ? "slot" : refused.status;
    });
  return result;
}

describe("SlotGate", () => {
  it("gives at most `size` slots, the next one to whoever waits first in plan order", async () => {
    const { slots } = gate(1);
    const a = ask(slots, "a");
    const c = ask(slots, "c");
    const b = ask(slots, "b");
    await nextTurn();
    expect([a.outcome, b.outcome, c.outcome]).toEqual(["slot", undefined, undefined]);
    expect([a.waited, b.waited, c.waited]).toEqual([false, true, true]);
    expect(slots.ahead).toBe(2);
    slots.release("a");
    await nextTurn();
    expect([b.outcome, c.outcome]).toEqual(["slot", undefined]);
    expect(slots.committing).toBe(1);
    slots.leave("a");
    slots.leave("b");
    await nextTurn();
    expect(c.outcome).toBe("slot");
  });

  it("keeps a free slot for a workspace earlier in the plan that is still being prepared", async () => {
    const { slots } = gate(2);
    const a = ask(slots, "a");
    // b started its preparation before c, and c is prepared first.
    slots.enter("b");
    const c = ask(slots, "c");
    await nextTurn();
    expect([a.outcome, c.outcome]).toEqual(["slot", undefined]);
    expect(c.waited).toBe(true);
    const b = ask(slots, "b");
    await nextTurn();
    expect([b.outcome, c.outcome]).toEqual(["slot", undefined]);
    slots.leave("a");
    await nextTurn();
    expect(c.outcome).toBe("slot");

    // An earlier workspace that ends during its preparation (a conflict) frees what it kept.
    const { slots: other } = gate(1);
    other.enter("a");
    const d = ask(other, "d");
    await nextTurn();
    expect(d.outcome).toBeUndefined();
    other.leave("a");
    await nextTurn();
    expect(d.outcome).toBe("slot");
  });

  it("serves a finished workspace's review before any workspace still to start", async () => {
    const { slots } = gate(1);
    ask(slots, "a");
    const b = ask(slots, "b");
    slots.release("a");
    await nextTurn();
    expect(b.outcome).toBe("slot");
    const review = slots.acquireForReview("a", new AbortController().signal);
    const c = ask(slots, "c");
    slots.leave("b");
    expect(await review).toBe(true);
    await nextTurn();
    expect(c.outcome).toBeUndefined();
    slots.leave("a");
    await nextTurn();
    expect(c.outcome).toBe("slot");
  });

  it("ends a waiting workspace as the judge says, without a slot", async () => {
    const { slots } = gate(1, () => ({ status: "skipped" }));
    const a = ask(slots, "a");
    await nextTurn();
    expect(a.outcome).toBe("skipped");
    expect(slots.beyond).toBe(0);
  });

  it("asks the judge again when a workspace ends, so one told to wait is not forgotten", async () => {
    let others = true;
    const { slots } = gate(2, () => (others ? "wait" : { status: "skipped" }));
    // a is committing: its outcome is what b waits for.
    slots.enter("a");
    slots.release("a");
    const b = ask(slots, "b");
    await nextTurn();
    expect(b.outcome).toBeUndefined();
    others = false;
    slots.leave("a");
    await nextTurn();
    expect(b.outcome).toBe("skipped");
  });
});
