import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readEvents } from "../../src/executor/run-store.js";
import { TimelineLog } from "../../src/ui/timeline-log.js";
import { eventWorkspace, type TimelineEntry, timelineEntry } from "../../src/ui/views.js";

/** Bytes read from any file through node:fs/promises file handles (what TimelineLog uses). */
const counted = vi.hoisted(() => ({ bytes: 0 }));
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  const open: typeof actual.open = async (...args) => {
    const handle = await actual.open(...args);
    const read = handle.read.bind(handle) as (...a: unknown[]) => Promise<{ bytesRead: number }>;
    (handle as unknown as { read: typeof read }).read = async (...a: unknown[]) => {
      const result = await read(...a);
      counted.bytes += result.bytesRead;
      return result;
    };
    return handle;
  };
  return { ...actual, open, default: { ...actual, open } };
});

/**
 * The timeline as a read of the whole log makes it (what the page answered before), but for a
 * line that is JSON and no event (`null`), which failed that answer and is skipped now.
 */
async function fullRead(file: string, name: string, limit: number) {
  const entries: TimelineEntry[] = [];
  for (const event of await readEvents(file)) {
    if (event === null || eventWorkspace(event) !== name) continue;
    const entry = timelineEntry(event);
    if (entry !== undefined) entries.push(entry);
  }
  const omitted = Math.max(0, entries.length - limit);
  return { entries: entries.slice(omitted), omitted };
}

function line(workspace: string, text: string, n: number): string {
  return `${JSON.stringify({
    time: `2026-01-01T00:00:${String(n % 60).padStart(2, "0")}Z`,
    runId: "r",
    type: "step.output",
    workspace,
    step: "check",
    line: text,
  })}\n`;
}

describe("the Activity tab's timeline log", () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "timeline-log-"));
    file = path.join(dir, "events.jsonl");
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers as a whole read does across appends: a torn line, a line and a character cut mid-write, a rewrite", async () => {
    const log = new TimelineLog(file, 3);
    const same = async () => {
      for (const name of ["alpha", "beta", "nobody"]) {
        expect(await log.entriesOf(name)).toEqual(await fullRead(file, name, 3));
      }
    };
    await same(); // no log yet
    writeFileSync(
      file,
      `${line("alpha", "one", 1)}\n${line("beta", "b1", 2)}{"torn\n${line("alpha", "two é", 3)}null\n`,
    );
    await same();
    // A line being written, cut inside the two bytes of "é" and then inside the four of "𝄞".
    const next = Buffer.from(line("alpha", "three é 𝄞", 4));
    const cut = next.indexOf(Buffer.from("é")) + 1;
    appendFileSync(file, next.subarray(0, cut));
    await same();
    const cut2 = next.indexOf(Buffer.from("𝄞")) + 2;
    appendFileSync(file, next.subarray(cut, cut2));
    await same();
    appendFileSync(file, next.subarray(cut2, next.length - 1)); // complete but for its newline
    await same();
    expect((await log.entriesOf("alpha")).entries.at(-1)?.text).toBe("check: three é 𝄞");
    appendFileSync(file, `\n${line("alpha", "four", 5)}${line("alpha", "five", 6)}`);
    await same();
    expect(await log.entriesOf("alpha")).toMatchObject({ omitted: 2 });
    // The record written back as conductor wrote it (a new file under its name).
    writeFileSync(`${file}.tmp`, line("beta", "only", 7));
    renameSync(`${file}.tmp`, file);
    await same();
    // Cut shorter in place, then grown again.
    writeFileSync(file, line("alpha", "again", 8));
    await same();
    rmSync(file);
    await same();
  });

  it("reads only what was appended since the last request, not the whole log again", async () => {
    const log = new TimelineLog(file, 2000);
    let text = "";
    for (let n = 0; n < 5000; n += 1) text += line(n % 2 === 0 ? "alpha" : "beta", `x${n}`, n);
    writeFileSync(file, text);
    await log.entriesOf("alpha");
    const appended = line("alpha", "new", 1);
    appendFileSync(file, appended);
    counted.bytes = 0;
    expect(await log.entriesOf("alpha")).toEqual(await fullRead(file, "alpha", 2000));
    const whole = Buffer.byteLength(text) + Buffer.byteLength(appended);
    counted.bytes = 0;
    await log.entriesOf("alpha");
    // Nothing new: at most the few bytes that tell an append from a rewrite.
    expect(counted.bytes).toBeLessThanOrEqual(4096);
    appendFileSync(file, appended);
    counted.bytes = 0;
    await log.entriesOf("beta");
    expect(counted.bytes).toBeLessThanOrEqual(4096 + Buffer.byteLength(appended));
    expect(counted.bytes).toBeLessThan(whole / 10);
  });
});
