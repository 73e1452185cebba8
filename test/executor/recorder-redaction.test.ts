import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/executor/events.js";
import { RunRecorder } from "../../src/executor/recorder.js";
import { RunPaths } from "../../src/executor/run-store.js";
import { initialRunState } from "../../src/executor/state-fold.js";
import { KnownSecrets } from "../../src/secrets/known-secrets.js";
import { planOf } from "../helpers/planning.js";

/** A secret with every character a JSON stream escapes, as an agent's decoded message holds it. */
const SECRET = `Qu"ote\\Back\nslash-8f2`;

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("the run recorder, where every artefact of a run comes from", () => {
  it("takes known secrets out of the prompts and of every decoded text before anything sees them", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "conductor-recorder-"));
    dirs.push(root);
    const plan = planOf(
      `version: 1\ntasks:\n  - id: deploy\n    prompt: ${JSON.stringify(`Deploy with ${SECRET}`)}\n`,
    );
    const paths = new RunPaths(root, "20260101-000000-abcd");
    const seen: RunEvent[] = [];
    const recorder = new RunRecorder(
      paths,
      initialRunState({ runId: paths.runId, plan, createdAt: "2026-01-01T00:00:00Z", pid: 1 }),
      [{ onEvent: (event) => seen.push(event), close: async () => {} }],
      new KnownSecrets([SECRET]),
    );
    recorder.emit({ type: "run.started", plan, resumed: false, concurrency: 1, pid: 1 });
    recorder.emit({
      type: "agent.activity",
      workspace: "deploy",
      activity: { kind: "message", text: `The password is ${SECRET}.` },
    });
    recorder.emit({
      type: "step.finished",
      workspace: "deploy",
      step: "agent",
      status: "succeeded",
      durationMs: 1,
      result: { step: "agent", finalMessage: `Done with ${SECRET}` },
    });
    await recorder.flush();

    const escaped = JSON.stringify(SECRET).slice(1, -1);
    const artefacts = {
      "events.jsonl": await readFile(paths.eventsFile, "utf8"),
      "run.json": await readFile(paths.stateFile, "utf8"),
      reporters: JSON.stringify(seen),
      state: JSON.stringify(recorder.state),
    };
    for (const [where, text] of Object.entries(artefacts)) {
      expect(text, where).not.toContain(escaped);
      expect(text, where).not.toContain('Qu\\"ote');
      expect(text, where).toContain("[redacted]");
    }
    expect(recorder.state.plan.workspaces[0]?.prompt).toBe("Deploy with [redacted]");
    expect(recorder.state.workspaces.deploy?.agent.finalMessage).toBe("Done with [redacted]");
  });
});
