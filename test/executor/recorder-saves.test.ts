// run.json is saved at run and workspace boundaries, but saves begin at least a spacing apart
// (each writes the whole state); flush() never waits for the spacing, and the last state lands.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RunRecorder } from "../../src/executor/recorder.js";
import { RunPaths } from "../../src/executor/run-store.js";
import { initialRunState } from "../../src/executor/state-fold.js";
import type { RunState } from "../../src/executor/types.js";
import { KnownSecrets } from "../../src/secrets/known-secrets.js";
import { planOf } from "../helpers/planning.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const TASKS = ["a", "b", "c", "d"];

async function started(spacingMs: number) {
  const root = await mkdtemp(path.join(os.tmpdir(), "conductor-saves-"));
  dirs.push(root);
  const plan = planOf(
    `version: 1\ntasks:\n${TASKS.map((id) => `  - id: ${id}\n    prompt: Do ${id}\n`).join("")}`,
  );
  const paths = new RunPaths(root, "20260101-000000-abcd");
  const recorder = new RunRecorder(
    paths,
    initialRunState({ runId: paths.runId, plan, createdAt: "2026-01-01T00:00:00Z", pid: 1 }),
    [],
    new KnownSecrets([]),
    () => new Date(),
    spacingMs,
  );
  recorder.emit({ type: "run.started", plan, resumed: false, concurrency: 1, pid: 1 });
  const finishAll = () => {
    for (const workspace of TASKS)
      recorder.emit({ type: "workspace.finished", workspace, status: "succeeded", durationMs: 1 });
  };
  const finishedOnDisk = async () => {
    const state = JSON.parse(await readFile(paths.stateFile, "utf8")) as RunState;
    return TASKS.filter((id) => state.workspaces[id]?.status === "succeeded").length;
  };
  return { recorder, finishAll, finishedOnDisk };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done` says so (the first save is asynchronous), for at most 10 s. */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 10_000; !(await done()); await sleep(10)) {
    if (Date.now() > deadline) throw new Error("timed out");
  }
}

describe("saves of run.json", () => {
  it("saves the start at once, holds the next saves for the spacing, and a flush writes at once", async () => {
    const { recorder, finishAll, finishedOnDisk } = await started(60_000);
    await until(async () => (await finishedOnDisk().catch(() => -1)) === 0);
    finishAll();
    await sleep(200);
    // Four boundaries passed; the save they asked for waits for its turn.
    expect(await finishedOnDisk()).toBe(0);
    const flushing = Date.now();
    await recorder.flush();
    expect(Date.now() - flushing).toBeLessThan(5_000);
    expect(await finishedOnDisk()).toBe(TASKS.length);
  });

  it("writes the latest state once the spacing has passed, without a flush", async () => {
    const { finishAll, finishedOnDisk } = await started(150);
    await until(async () => (await finishedOnDisk().catch(() => -1)) === 0);
    finishAll();
    await sleep(600);
    expect(await finishedOnDisk()).toBe(TASKS.length);
  });
});
