// The guard of a live run's events.jsonl: what this process appended is what the file holds,
// whatever else writes to it meanwhile, on a real file.
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/executor/events.js";
import { RecordGuard } from "../../src/executor/record-guard.js";
import { EventsFile, RunPaths } from "../../src/executor/run-store.js";
import type { WorkspaceStatus } from "../../src/executor/types.js";
import { tempDirForTest } from "../helpers/temp-homes.js";

const RUN = "20261206-220000-00aa";
const finished: (name: string) => WorkspaceStatus | undefined = (name) =>
  name === "done" ? "succeeded" : name === "busy" ? "running" : undefined;

function setUp() {
  const paths = new RunPaths(tempDirForTest("record-guard-"), RUN);
  const guard = new RecordGuard(paths.eventsFile);
  const events = new EventsFile(paths);
  const record = (event: Partial<RunEvent> & { type: RunEvent["type"] }) => {
    const appended = events.append({ time: "t", runId: RUN, ...event } as RunEvent);
    guard.appended(appended.text, appended.before, appended.after);
  };
  // As the recorder does: the file written back under its name is opened again.
  const check = (): string | undefined => {
    const { problem, rewritten } = guard.check(RUN, finished);
    if (rewritten) events.reopen();
    return problem;
  };
  record({ type: "workspace.started", workspace: "done", try: 1 } as Partial<RunEvent> & {
    type: "workspace.started";
  });
  record({ type: "step.started", workspace: "done", step: "agent" } as Partial<RunEvent> & {
    type: "step.started";
  });
  return { paths, check, record, written: readFileSync(paths.eventsFile, "utf8") };
}

const archived = (workspace: string) =>
  `${JSON.stringify({ type: "workspace.archived", workspace, branchDeleted: false, time: "t", runId: RUN })}\n`;

describe("RecordGuard", () => {
  it("finds nothing while only this process appended", () => {
    const { check, record } = setUp();
    expect(check()).toBeUndefined();
    record({ type: "step.started", workspace: "done", step: "check" } as Partial<RunEvent> & {
      type: "step.started";
    });
    expect(check()).toBeUndefined();
  });

  it("puts the file back and says so when a line was appended, also between two of its own", () => {
    const { paths, check, record, written } = setUp();
    const forged = `{"type":"workspace.finished","workspace":"done","status":"succeeded","runId":"${RUN}"}\n`;
    appendFileSync(paths.eventsFile, forged);
    record({ type: "step.started", workspace: "done", step: "commit" } as Partial<RunEvent> & {
      type: "step.started";
    });
    expect(check()).toMatch(/written to by something other than conductor/);
    const now = readFileSync(paths.eventsFile, "utf8");
    expect(now.startsWith(written)).toBe(true);
    expect(now).not.toContain('"status":"succeeded"');
    expect(check()).toBeUndefined();
  });

  it("finds an edit inside one of its lines that keeps the file's size", () => {
    const { paths, check, written } = setUp();
    writeFileSync(paths.eventsFile, written.replace('"step":"agent"', '"step":"check"'));
    expect(check()).toMatch(/put back as conductor wrote it/);
    expect(readFileSync(paths.eventsFile, "utf8")).toBe(written);
  });

  it("takes another conductor's archive of a finished workspace as legitimate, not of a running one", () => {
    const { paths, check, written } = setUp();
    appendFileSync(paths.eventsFile, archived("done"));
    expect(check()).toBeUndefined();
    expect(readFileSync(paths.eventsFile, "utf8")).toBe(written + archived("done"));
    appendFileSync(paths.eventsFile, archived("busy"));
    expect(check()).toMatch(/something other than conductor/);
    expect(readFileSync(paths.eventsFile, "utf8")).toBe(written + archived("done"));
  });

  it("writes a removed record back without blaming anyone, with what was appended since", () => {
    const { paths, check, record, written } = setUp();
    rmSync(path.dirname(paths.eventsFile), { recursive: true });
    expect(check()).toBeUndefined();
    expect(readFileSync(paths.eventsFile, "utf8")).toBe(written);
    rmSync(paths.eventsFile);
    record({ type: "step.started", workspace: "done", step: "commit" } as Partial<RunEvent> & {
      type: "step.started";
    });
    expect(check()).toBeUndefined();
    const now = readFileSync(paths.eventsFile, "utf8");
    expect(now.startsWith(written)).toBe(true);
    expect(now).toContain('"step":"commit"');
  });
});
