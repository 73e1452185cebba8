import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo, runAll, waitFor } from "../review/rig.js";

function registry(home: string): {
  reservations: { workspace: string; start: number; pid?: number }[];
} {
  try {
    return JSON.parse(readFileSync(path.join(home, ".conductor", "ports.json"), "utf8"));
  } catch {
    return { reservations: [] };
  }
}

describe("conductor ui", () => {
  let repo: ReviewRepo;

  beforeAll(async () => {
    repo = await reviewRepo([{ id: "alpha" }]);
    await runAll(repo);
  });

  afterAll(async () => {
    await repo?.remove();
  });

  it("serves on a port from conductor's registry, holds it while it runs, and stops cleanly on Ctrl-C", async () => {
    const ui = repo.start(["ui"]);
    let stdout = "";
    ui.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    await waitFor("the page's address", () => /at http:\/\/127\.0\.0\.1:\d+\//.test(stdout));
    const url = /at (http:\/\/127\.0\.0\.1:(\d+)\/[\w-]+\/)/.exec(stdout);
    const port = Number(url?.[2]);
    const reserved = registry(repo.home).reservations.find(
      (entry) => entry.workspace === "conductor ui",
    );
    expect(reserved).toMatchObject({ start: port, pid: ui.pid });
    // A request opens the run's feed (a file watcher and timers), which must not keep it alive.
    const state = (await (await fetch(`${url?.[1]}api/state`)).json()) as {
      workspaces: { status: string }[];
    };
    expect(state.workspaces.map((row) => row.status)).toEqual(["succeeded"]);
    ui.kill("SIGINT");
    const result = await ui;
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stderr).toContain("conductor ui: stopping");
    expect(
      registry(repo.home).reservations.some((entry) => entry.workspace === "conductor ui"),
    ).toBe(false);
  });

  it("refuses a --port that is not a port, naming it, and starts nothing", async () => {
    const result = await repo.cli(["ui", "--port", "99999"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("conductor: --port 99999 is not a port number (1-65535)");
  });
});
