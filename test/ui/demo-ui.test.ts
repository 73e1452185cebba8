import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startConductor } from "../helpers/cli.js";
import { waitFor } from "../review/rig.js";
import { PACKAGE_ROOT } from "./page-server.js";

const cleanup: string[] = [];
afterAll(async () => {
  for (const dir of cleanup.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("conductor demo --ui", () => {
  it("prints the page's address before the run, serves it live and after, and stops on Ctrl-C", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "conductor-demo-ui-"));
    cleanup.push(home);
    const demo = startConductor(["demo", "--ui", "--output", "plain"], { cwd: PACKAGE_ROOT, home });
    let stdout = "";
    demo.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    const output = () => `stdout so far:\n${stdout}`;
    await waitFor(
      "the page's address",
      () => /conductor ui: run \S+ at http/.test(stdout),
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${output()}`);
    });
    const url = /at (http:\/\/127\.0\.0\.1:\d+\/[\w-]+\/)/.exec(stdout)?.[1] as string;
    const repo = /conductor demo: repository (\S+)/.exec(stdout)?.[1] as string;
    cleanup.push(path.dirname(repo));
    // The address comes before the run's progress: the page can watch it from the start.
    expect(stdout.indexOf(url)).toBeLessThan(stdout.indexOf("Next, from this folder") >>> 0);
    await waitFor(
      "the demo to finish",
      () => stdout.includes("Ctrl-C stops the page"),
      120_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${output()}`);
    });
    const state = (await (await fetch(`${url}api/state`)).json()) as {
      run: { status: string };
      workspaces: { name: string; status: string }[];
    };
    expect(state.workspaces.map((row) => row.name).sort()).toEqual(
      ["add-greeting", "document-greeting", "fix-average"].sort(),
    );
    expect(state.run.status).toBe("succeeded");
    const diff = (await (await fetch(`${url}api/workspaces/add-greeting/diff`)).json()) as {
      files: unknown[];
    };
    expect(diff.files.length).toBeGreaterThan(0);
    demo.kill("SIGINT");
    const result = await demo;
    expect(result.exitCode, result.all).toBe(0);
    await expect(fetch(`${url}api/state`)).rejects.toThrow();
  }, 240_000);
});
