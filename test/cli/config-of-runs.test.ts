// Commands that read runs choose the latest run of the config file in use. When `-c FILE` names a
// file that does not exist and no run was made from it, they say so (exit 2) instead of talking
// about runs and suggesting a `conductor -c FILE run` that fails; and every message names the file
// the way the user can pass it from the folder they are in.
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { type CliResult, conductor } from "../helpers/cli.js";
import { printedCommands, runAsPrinted } from "../lifecycle/hints.js";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";

let repo: ReviewRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** conductor.yaml's tasks with branches and worktrees of their own, so both files can run. */
async function copyOfConfig(current: ReviewRepo, name: string): Promise<string> {
  const config = parse(await current.git("show", "HEAD:conductor.yaml")) as {
    workspaces: Record<string, unknown>;
  };
  config.workspaces.dir = path.join(current.home, `workspaces-${name}`);
  config.workspaces.branch = `${name}/{{task}}`;
  return stringify(config);
}

/** Refused as `run` refuses a missing config: exit 2, `FILE: does not exist`, nothing about runs. */
function expectMissing(result: CliResult, shown: string): void {
  expect(result.exitCode, result.all).toBe(2);
  expect(result.stdout).toBe("");
  expect(result.stderr).toContain(`conductor: ${shown} has 1 problem:\n  ${shown}: does not exist`);
  expect(result.stderr).not.toContain("no runs");
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe("-c FILE that does not exist", () => {
  it.each([["status"], ["runs"], ["logs", "hello"], ["diff", "hello"], ["report"], ["clean"]])(
    "conductor -c nope.yaml %s says so, in a repository with no runs",
    async (...args) => {
      repo = await reviewRepo([{ id: "hello" }]);
      expectMissing(await repo.cli(["-c", "nope.yaml", ...args]), "nope.yaml");
      expect(existsSync(path.join(repo.root, ".conductor"))).toBe(false);
    },
  );

  it("says so when the repository has runs of other files, naming it as given from a subfolder", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    await runAll(repo);
    expectMissing(await repo.cli(["-c", "nope.yaml", "status"]), "nope.yaml");
    const cfg = path.join(repo.root, "cfg");
    await mkdir(cfg);
    const below = await conductor(["-c", "cfg/other.yaml", "status"], {
      cwd: cfg,
      home: repo.home,
    });
    expectMissing(below, "cfg/other.yaml");
    expect(below.stderr).not.toContain("cfg/cfg/");
  });

  it("still reads the runs of a config file that was deleted after they were made", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    await repo.write({ "a.yaml": await copyOfConfig(repo, "a") });
    expect((await repo.cli(["-c", "a.yaml", "run", "--output", "plain"])).exitCode).toBe(0);
    await rm(path.join(repo.root, "a.yaml"));
    const status = await repo.cli(["-c", "a.yaml", "status"]);
    expect(status.exitCode, status.all).toBe(0);
    expect(status.stdout).toContain(`run ${repo.runIds().at(-1)}`);
  });
});

describe("a config file with no runs yet, from a subfolder", () => {
  it("is named as the user passes it there, in the message and in the hint, which works as printed", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    await runAll(repo);
    await repo.write({ "cfg/other.yaml": await copyOfConfig(repo, "other") });
    const cfg = path.join(repo.root, "cfg");
    const none = await conductor(["-c", "other.yaml", "status"], { cwd: cfg, home: repo.home });
    expect(none.exitCode, none.all).toBe(2);
    expect(none.stderr).toContain("there are no runs of other.yaml in this repository yet");
    expect(none.stderr).not.toContain("cfg/other.yaml");
    const hints = printedCommands(none.stderr);
    expect(hints).toContain("conductor -c other.yaml run");
    const started = await runAsPrinted("conductor -c other.yaml run --output plain", {
      cwd: cfg,
      home: repo.home,
    });
    expect(started.exitCode, started.all).toBe(0);
    const status = await conductor(["-c", "other.yaml", "status"], { cwd: cfg, home: repo.home });
    expect(status.exitCode, status.all).toBe(0);
  });
});
