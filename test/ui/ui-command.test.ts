import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReviewRepo, readOr, reviewRepo, runAll, waitFor } from "../review/rig.js";

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

  it("--open hands the browser a private file that leads to the page, never the token as an argument", async () => {
    // A stand-in for xdg-open (open on macOS) that records the arguments it was started with,
    // which is what any local user can read of it in ps or /proc/<pid>/cmdline.
    const bin = path.join(repo.home, "fake-opener");
    const record = path.join(bin, "argv");
    mkdirSync(bin, { recursive: true });
    for (const name of ["xdg-open", "open"]) {
      writeFileSync(path.join(bin, name), `#!/bin/sh\nprintf '%s\\n' "$@" > "${record}"\n`);
      chmodSync(path.join(bin, name), 0o755);
    }
    const ui = repo.start(["ui", "--open"], { PATH: `${bin}:${process.env.PATH}` });
    let stdout = "";
    ui.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    try {
      await waitFor("the opener", () => existsSync(record) && readOr(record).endsWith("\n"));
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/([\w-]+)\/)/.exec(stdout);
      const token = url?.[2] as string;
      expect(token.length).toBeGreaterThan(10);
      const argv = readFileSync(record, "utf8").trimEnd().split("\n");
      expect(argv).toHaveLength(1);
      expect(argv.join(" ")).not.toContain(token);
      // What it was given is a file only this user can read, which sends the browser to the page.
      const file = fileURLToPath(argv[0] as string);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      const target = /http-equiv="refresh" content="0; url=([^"]+)"/.exec(
        readFileSync(file, "utf8"),
      )?.[1];
      expect(target).toBe(url?.[1]);
      const answer = await fetch(target as string);
      expect(answer.status).toBe(200);
      expect(await answer.text()).toContain("<html");
      ui.kill("SIGINT");
      const result = await ui;
      expect(result.exitCode, result.all).toBe(0);
      expect(result.stderr).not.toContain("could not open a browser");
      // The file goes with the page.
      expect(existsSync(file)).toBe(false);
    } finally {
      ui.kill("SIGINT");
    }
  });

  it("refuses a --port that is not a port, naming it, and starts nothing", async () => {
    const result = await repo.cli(["ui", "--port", "99999"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("conductor: --port 99999 is not a port number (1-65535)");
  });
});
