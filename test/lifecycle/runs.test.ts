// Runs are explicit: every command reads one run, the latest of the config file in use unless
// --run names another, and never reaches into another run's workspaces.
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { RunListing } from "../../src/review/runs.js";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";
import { printedCommands, runAsPrinted } from "./hints.js";

let repo: ReviewRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** A repository with two more config files, a.yaml and b.yaml, each with a task fix-average. */
async function twoConfigs(): Promise<ReviewRepo> {
  const current = await reviewRepo([{ id: "hello" }]);
  const config = (name: string) => ({
    version: 1,
    agent: { kind: "command", command: `echo ${name} > "${name}.txt"` },
    workspaces: {
      dir: path.join(current.home, `workspaces-${name}`),
      branch: `${name}/{{task}}`,
    },
    tasks: [{ id: "fix-average", prompt: "Fix the average" }],
  });
  await current.write({
    "a.yaml": stringify(config("a")),
    "b.yaml": stringify(config("b")),
  });
  await current.commitAll("two more task sets");
  return current;
}

async function branches(current: ReviewRepo): Promise<string[]> {
  return (await current.git("for-each-ref", "--format=%(refname:short)", "refs/heads/"))
    .split("\n")
    .filter((name) => name !== "main");
}

describe("runs are explicit", () => {
  it("archive of a workspace name acts on the run of the config in use, never on another file's run", async () => {
    repo = await twoConfigs();
    await runAll(repo); // conductor.yaml's run first
    expect((await repo.cli(["-c", "a.yaml", "run", "--output", "plain"])).exitCode).toBe(0);
    expect((await repo.cli(["-c", "b.yaml", "run", "--output", "plain"])).exitCode).toBe(0);
    expect(await branches(repo)).toEqual(["a/fix-average", "b/fix-average", "conductor/hello"]);

    // The default config (conductor.yaml) has no workspace fix-average: refused, nothing touched.
    const refused = await repo.cli(["archive", "fix-average", "--delete-branch", "--force"]);
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr).toContain('no workspace matches "fix-average"');
    expect(await branches(repo)).toEqual(["a/fix-average", "b/fix-average", "conductor/hello"]);

    const archived = await repo.cli([
      "-c",
      "a.yaml",
      "archive",
      "fix-average",
      "--delete-branch",
      "--force",
    ]);
    expect(archived.exitCode, archived.all).toBe(0);
    expect(archived.stdout).toContain("deleted branch a/fix-average");
    expect(await branches(repo)).toEqual(["b/fix-average", "conductor/hello"]);

    const all = await repo.cli(["-c", "b.yaml", "archive", "--all", "--delete-branch", "--force"]);
    expect(all.exitCode, all.all).toBe(0);
    expect(all.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(/^archived fix-average: .*deleted branch b\/fix-average$/),
    ]);
    expect(await branches(repo)).toEqual(["conductor/hello"]);
  });

  it("conductor runs lists every run with its config file, start, status and counts", async () => {
    repo = await twoConfigs();
    await runAll(repo);
    expect((await repo.cli(["-c", "a.yaml", "run", "--output", "plain"])).exitCode).toBe(0);
    const [first, second] = repo.runIds() as [string, string];

    const listed = await repo.cli(["runs"]);
    expect(listed.exitCode, listed.all).toBe(0);
    const lines = listed.stdout.split("\n");
    expect(lines[0]).toMatch(/^\s+RUN\s+CONFIG\s+STARTED \(UTC\)\s+STATUS\s+WORKSPACES$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^\\*\\s+${first}\\s+conductor\\.yaml\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+succeeded\\s+1 succeeded$`,
      ),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^\\*\\s+${second}\\s+a\\.yaml\\s+.*succeeded\\s+1 succeeded$`),
    );

    const json = JSON.parse((await repo.cli(["runs", "--json"])).stdout) as RunListing[];
    expect(json.map((run) => [run.runId, run.configFile, run.status, run.counts])).toEqual([
      [first, "conductor.yaml", "succeeded", { succeeded: 1 }],
      [second, "a.yaml", "succeeded", { succeeded: 1 }],
    ]);

    // status reads the latest run of the config in use, or the one --run names (a prefix will do).
    expect((await repo.cli(["status"])).stdout).toContain(`run ${first}`);
    expect((await repo.cli(["-c", "a.yaml", "status"])).stdout).toContain(`run ${second}`);
    expect((await repo.cli(["status", "--run", second.slice(0, 18)])).stdout).toContain(
      `run ${second}`,
    );
    const none = await repo.cli(["-c", "b.yaml", "status"]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain("there are no runs of b.yaml in this repository yet");
    expect(none.stderr).toContain(
      "`conductor -c b.yaml runs` lists the 2 runs of other config files",
    );
  });

  it("run --resume of another file's run is refused with the command that resumes it", async () => {
    repo = await twoConfigs();
    // a.yaml's check fails, so its run ends failed and can be resumed.
    const config = (await repo.git("show", "HEAD:a.yaml")).replace(
      "tasks:",
      "scripts:\n  check: exit 1\ntasks:",
    );
    await repo.write({ "a.yaml": `${config}\n` });
    await repo.commitAll("a.yaml's check fails");
    const failing = await repo.cli(["-c", "a.yaml", "run", "--output", "plain"]);
    expect(failing.exitCode, failing.all).toBe(1);
    const runId = repo.runIds().at(-1) as string;
    const refused = await repo.cli(["run", "--resume", runId]);
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr).toContain(`run ${runId} was made from a.yaml, not conductor.yaml`);
    const [hint] = printedCommands(refused.stderr);
    expect(hint).toBe(`conductor -c a.yaml run --resume ${runId}`);
    // As printed, it resumes the run: the check fails again (exit 1), but nothing is refused.
    const resumed = await runAsPrinted(hint as string, { cwd: repo.root, home: repo.home });
    expect(resumed.exitCode, resumed.all).toBe(1);
    expect(resumed.all).toContain(`Run ${runId} finished with failures`);
  });

  it("run --resume takes --run <id>, as every command that reads a run does; two runs named is refused", async () => {
    repo = await reviewRepo([{ id: "bad", check: "exit 1" }, { id: "good" }]);
    await runAll(repo, ["bad"]);
    const [failed] = repo.runIds() as [string];
    await runAll(repo, ["good"]);
    const [, later] = repo.runIds() as [string, string];
    // The latest run is the default: --run reaches the earlier one, also by a prefix.
    const resumed = await repo.cli(["run", "--resume", "--run", failed, "--output", "plain"]);
    expect(resumed.exitCode, resumed.all).toBe(1);
    expect(resumed.stdout).toContain(`Run ${failed} finished with failures`);
    expect(repo.runIds()).toEqual([failed, later]);

    // Two different runs named at once is the command line's mistake: nothing is read or run.
    for (const args of [
      ["run", "--resume", failed, "--run", later],
      ["status", failed, "--run", later],
      ["report", failed, "--run", later],
    ]) {
      const both = await repo.cli(args);
      expect(both.exitCode, both.all).toBe(2);
      expect(both.stdout).toBe("");
      expect(both.stderr).toContain(
        `conductor: two runs named: ${failed} and --run ${later}; name one`,
      );
    }
    // The same run twice is no contradiction.
    expect((await repo.cli(["status", failed, "--run", failed])).exitCode).toBe(0);
    // --run on `run` names the run to resume: without --resume it would be ignored.
    const alone = await repo.cli(["run", "--run", failed]);
    expect(alone.exitCode, alone.all).toBe(2);
    expect(alone.stderr).toContain(`--run ${failed} names a run to resume: add --resume`);
    expect(repo.runIds()).toEqual([failed, later]);
  });

  it("run --resume of a latest run that succeeded names the earlier run there is to resume", async () => {
    repo = await reviewRepo([{ id: "bad", check: "exit 1" }, { id: "good" }]);
    await runAll(repo, ["bad"]);
    const [failed] = repo.runIds() as [string];
    await runAll(repo, ["good"]);
    const [, later] = repo.runIds() as [string, string];
    const refused = await repo.cli(["run", "--resume"]);
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr).toContain(`run ${later} already succeeded; there is nothing to resume`);
    const [hint] = printedCommands(refused.stderr);
    expect(hint).toBe(`conductor run --resume ${failed}`);
    const resumed = await runAsPrinted(`${hint as string} --output plain`, {
      cwd: repo.root,
      home: repo.home,
    });
    expect(resumed.exitCode, resumed.all).toBe(1);
    expect(resumed.stdout).toContain(`Run ${failed} finished with failures`);
  });
});
