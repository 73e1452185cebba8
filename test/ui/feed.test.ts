import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/executor/events.js";
import { RunFeed } from "../../src/ui/feed.js";
import { planOf } from "../helpers/planning.js";
import { waitFor } from "../review/rig.js";

const plan = planOf(`version: 1
agent: { kind: command, command: "true" }
tasks:
  - id: docs
    prompt: write docs
`);
const line = (event: Record<string, unknown>) =>
  `${JSON.stringify({ runId: "r1", time: new Date().toISOString(), ...event } as RunEvent)}\n`;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Parses the SSE text a feed hands a subscriber. */
// biome-ignore lint/suspicious/noExplicitAny: the test reads whatever JSON the feed sent
function parse(text: string): { id: number; event: string; data: any } {
  const fields: Record<string, string> = Object.fromEntries(
    text
      .trim()
      .split("\n")
      .map((row) => [row.slice(0, row.indexOf(": ")), row.slice(row.indexOf(": ") + 2)]),
  );
  return {
    id: Number(fields.id),
    event: fields.event ?? "",
    data: JSON.parse(fields.data ?? "null"),
  };
}

/** A feed of a new run's events.jsonl, started; the run's conductor is this process (alive). */
async function startedFeed(): Promise<{ file: string; feed: RunFeed; pid: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "conductor-feed-"));
  dirs.push(dir);
  const file = path.join(dir, "events.jsonl");
  const pid = process.pid;
  writeFileSync(file, line({ type: "run.started", plan, resumed: false, concurrency: 1, pid }));
  const feed = new RunFeed({ eventsFile: file, extras: () => ({}) });
  await feed.start();
  return { file, feed, pid };
}

describe("the page's feed of a run", () => {
  it("follows a run that finishes and is resumed, and resumes a subscriber after its last id", async () => {
    const { file, feed, pid } = await startedFeed();
    try {
      const seen: ReturnType<typeof parse>[] = [];
      feed.subscribe((text) => seen.push(parse(text)));
      expect(seen[0]).toMatchObject({ event: "state", data: { run: { status: "running" } } });
      appendFileSync(file, line({ type: "workspace.started", workspace: "docs", try: 1 }));
      await waitFor("the update", () => seen.length === 2);
      expect(seen[1]).toMatchObject({
        event: "update",
        data: { row: { name: "docs", status: "running" } },
      });
      const afterStart = seen[1]?.id as number;
      appendFileSync(
        file,
        line({
          type: "workspace.finished",
          workspace: "docs",
          status: "interrupted",
          durationMs: 5,
        }) + line({ type: "run.finished", status: "interrupted", durationMs: 5, counts: {} }),
      );
      await waitFor("the end of the run", () => seen.at(-1)?.data?.run?.status === "interrupted");
      // `run --resume` appends to the same log: the page follows it.
      appendFileSync(
        file,
        line({ type: "run.started", plan, resumed: true, concurrency: 1, pid }) +
          line({ type: "workspace.started", workspace: "docs", try: 1 }) +
          line({
            type: "workspace.finished",
            workspace: "docs",
            status: "succeeded",
            durationMs: 7,
          }) +
          line({ type: "run.finished", status: "succeeded", durationMs: 7, counts: {} }),
      );
      await waitFor("the resumed run's end", () => seen.at(-1)?.data?.run?.status === "succeeded");
      expect(seen.at(-1)?.data.workspaces[0]).toMatchObject({ name: "docs", status: "succeeded" });
      // A page that reconnects with the id of the update after the start gets what came later only.
      const resumed: ReturnType<typeof parse>[] = [];
      feed.subscribe((text) => resumed.push(parse(text)), afterStart);
      expect(resumed.length).toBeGreaterThan(0);
      expect(resumed.every((message) => message.id > afterStart)).toBe(true);
      expect(resumed.at(-1)?.data.run.status).toBe("succeeded");
      // One that is up to date gets nothing again.
      const current: unknown[] = [];
      feed.subscribe((text) => current.push(text), feed.position);
      expect(current).toEqual([]);
    } finally {
      feed.stop();
    }
  });

  it("skips a line with a value conductor does not know and goes on with the next", async () => {
    const { file, feed } = await startedFeed();
    try {
      const seen: ReturnType<typeof parse>[] = [];
      feed.subscribe((text) => seen.push(parse(text)));
      appendFileSync(
        file,
        line({ type: "workspace.finished", workspace: "docs", status: "bogus", durationMs: 5 }) +
          line({ type: "workspace.started", workspace: "docs", try: 1 }),
      );
      await waitFor("the update", () => seen.length === 2);
      expect(seen[1]).toMatchObject({
        event: "update",
        data: { row: { name: "docs", status: "running" } },
      });
      expect(JSON.stringify(seen)).not.toContain("bogus");
    } finally {
      feed.stop();
    }
  });
});
