// State on disk that is damaged or not what conductor wrote (the port registry, run folders)
// never makes conductor crash, hand out what is in use, or break every other run.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { shellCommand } from "../../src/hint/shell-quote.js";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig } from "../helpers/run-repo.js";
import {
  hasStackTrace,
  killLeftovers,
  newestRunId,
  pollUntil,
  startTracked,
  stopStarted,
} from "./rig.js";

const repos: TestRepo[] = [];
const runs: string[] = [];
afterEach(async () => {
  stopStarted();
  for (const id of runs.splice(0)) killLeftovers(id);
  for (const repo of repos.splice(0)) await repo.remove();
});

async function repo(config: Record<string, unknown>): Promise<TestRepo> {
  const made = await repoWithConfig({ tasks: [{ id: "a", prompt: "p" }], ...config });
  repos.push(made);
  return made;
}

function registry(home: string): string {
  return path.join(home, ".conductor", "ports.json");
}

describe("the port registry", () => {
  it('{"reservations":[null]} does not fail the workspace; the registry is written whole again', async () => {
    const one = await repo({ agent: { kind: "command", command: "echo x > work.txt" } });
    mkdirSync(path.dirname(registry(one.home)), { recursive: true });
    writeFileSync(registry(one.home), '{"reservations":[null]}');
    const result = await conductor(["run", "--output", "plain"], { cwd: one.root, home: one.home });
    expect(result.exitCode, result.all).toBe(0);
    const written = JSON.parse(readFileSync(registry(one.home), "utf8")) as {
      reservations: ({ workspace: string; worktree: string } | null)[];
    };
    // Every entry is whole again. Blocks that live processes of other runs on this machine hold
    // (tests running beside this one) are kept on purpose: their ports are in use.
    expect(written.reservations.every((entry) => entry !== null && entry.workspace !== "")).toBe(
      true,
    );
    const ours = written.reservations.filter((entry) => entry?.worktree.startsWith(one.home));
    expect(ours.map((entry) => entry?.workspace)).toEqual(["a"]);
  });

  it("garbage in it is rebuilt from live runs: a block still in use is not handed out again", async () => {
    const agent = {
      kind: "command",
      command: 'echo "$CONDUCTOR_PORT" > "$HOME/port-$CONDUCTOR_RUN_ID"; sleep 300',
    };
    const first = await repo({ agent });
    const home = first.home;
    const live = startTracked(["run", "--output", "plain"], { cwd: first.root, home });
    const firstRun = await pollUntil(() => newestRunId(first.root), "the first run");
    runs.push(firstRun);
    const firstPort = Number(
      await pollUntil(() => {
        const file = path.join(home, `port-${firstRun}`);
        return existsSync(file) && readFileSync(file, "utf8").trim();
      }, "the first run's agent"),
    );
    writeFileSync(registry(home), "garbage{ not json");

    const second = await repo({
      agent: { kind: "command", command: 'echo "$CONDUCTOR_PORT" > port.txt' },
    });
    const result = await conductor(["run", "--output", "plain"], { cwd: second.root, home });
    expect(result.exitCode, result.all).toBe(0);
    const secondPort = Number(await second.git("show", "conductor/a:port.txt"));
    // Blocks of 10: the second run's block must not overlap the live one.
    expect(
      Math.abs(secondPort - firstPort),
      `${firstPort} and ${secondPort}`,
    ).toBeGreaterThanOrEqual(10);
    expect(readFileSync(`${registry(home)}.damaged`, "utf8")).toBe("garbage{ not json");
    const rebuilt = readFileSync(registry(home), "utf8");
    expect(rebuilt).toContain(path.join(first.home, "workspaces", "a"));
    live.kill("SIGINT");
    await live;
  });

  it("a folder in its place is refused with its remedy, and no temporary file is left", async () => {
    const one = await repo({ agent: { kind: "command", command: "echo x > work.txt" } });
    mkdirSync(registry(one.home), { recursive: true });
    // Preflight refuses this run before anything is made (test/preflight); past it, the ports
    // step itself must refuse just as clearly.
    const result = await conductor(["run", "--output", "plain", "--no-preflight"], {
      cwd: one.root,
      home: one.home,
    });
    expect(result.exitCode, result.all).toBe(1);
    expect(hasStackTrace(result.all)).toBe(false);
    const [workspace] = latestSummary(one.root).workspaces;
    expect(workspace?.failure).toMatchObject({ step: "ports" });
    expect(workspace?.failure?.message).toContain("is a directory, not conductor's port registry");
    expect(workspace?.failure?.message).toContain(`mv '${registry(one.home)}'`);
    const left = readdirSync(path.dirname(registry(one.home))).filter((name) =>
      name.endsWith(".tmp"),
    );
    expect(left).toEqual([]);
  });
});

describe("input that used to crash with exit 70 is a clear error", () => {
  const plain = { kind: "command", command: "echo x > work.txt" };

  it("--shard 1/99999999999999999999 is a usage error (exit 2), nothing created", async () => {
    const one = await repo({ agent: plain });
    const result = await conductor(["run", "--shard", "1/99999999999999999999"], {
      cwd: one.root,
      home: one.home,
    });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain("conductor splits a run into at most");
    expect(hasStackTrace(result.all)).toBe(false);
    expect(existsSync(path.join(one.root, ".conductor", "runs"))).toBe(false);
  });

  it("report --out <a folder> is a usage error, and no temporary file is left beside it", async () => {
    const one = await repo({ agent: plain });
    const ran = await conductor(["run", "--output", "plain"], { cwd: one.root, home: one.home });
    expect(ran.exitCode, ran.all).toBe(0);
    mkdirSync(path.join(one.root, "out"));
    const result = await conductor(["report", "--out", "out"], { cwd: one.root, home: one.home });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain("--out out is a directory: give the path of a file");
    expect(readdirSync(one.root).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("a run folder whose run.json has the wrong shape is skipped, naming it; other runs still work", async () => {
    const one = await repo({ agent: plain });
    const ran = await conductor(["run", "--output", "plain"], { cwd: one.root, home: one.home });
    expect(ran.exitCode, ran.all).toBe(0);
    const bad = path.join(one.root, ".conductor", "runs", "20000101-000000-bad");
    mkdirSync(bad, { recursive: true });
    writeFileSync(path.join(bad, "run.json"), '{"runId":5,"workspaces":[1]}');
    const cli = (args: string[]) => conductor(args, { cwd: one.root, home: one.home });
    const runs = await cli(["runs"]);
    expect(runs.exitCode, runs.all).toBe(0);
    expect(runs.stderr).toContain("skipped run 20000101-000000-bad");
    const named = await cli(["status", "--run", "20000101-000000-bad"]);
    expect(named.exitCode, named.all).toBe(2);
    expect(named.stderr).toContain(`the run in ${bad} is damaged`);
    const clean = await cli(["clean"]);
    expect(clean.exitCode, clean.all).toBe(0);
    expect(clean.stdout).toContain("skipped run 20000101-000000-bad");
    for (const args of [["status"], ["diff", "a"], ["archive", "a"]]) {
      const result = await cli(args);
      expect(result.exitCode, `${args.join(" ")}: ${result.all}`).toBe(0);
      expect(hasStackTrace(result.all)).toBe(false);
    }
  });

  it("a record whose commit is an option (`--output=…`) is damaged to every command: git never sees it", async () => {
    const one = await repo({ agent: { kind: "command", command: "echo x > work.txt" } });
    const ran = await conductor(["run", "--output", "plain"], { cwd: one.root, home: one.home });
    expect(ran.exitCode, ran.all).toBe(0);
    const runId = newestRunId(one.root) as string;
    const events = path.join(one.root, ".conductor", "runs", runId, "events.jsonl");
    // What a process with a shell could append: the worktree step's result, with a start commit
    // that git would take as an option writing a file.
    const forged = {
      type: "step.finished",
      time: new Date().toISOString(),
      runId,
      workspace: "a",
      step: "worktree",
      status: "succeeded",
      durationMs: 1,
      result: {
        step: "worktree",
        path: "/x",
        branch: "conductor/a",
        startCommit: "--output=forged.txt",
      },
    };
    writeFileSync(events, `${readFileSync(events, "utf8")}${JSON.stringify(forged)}\n`);
    const cli = (args: string[]) => conductor(args, { cwd: one.root, home: one.home });
    for (const args of [["status"], ["diff", "a"], ["checks", "a"], ["report"]]) {
      const result = await cli(args);
      expect(result.exitCode, `${args.join(" ")}: ${result.all}`).toBe(2);
      expect(result.stderr).toContain("the start commit of workspace a is not a commit id");
      expect(hasStackTrace(result.all)).toBe(false);
    }
    expect(existsSync(path.join(one.root, "forged.txt"))).toBe(false);
    expect(readdirSync(one.root).filter((name) => name.includes("forged"))).toEqual([]);
  });

  it("a record forged with a value conductor does not know is refused as damaged by every read command, naming the file and the value", async () => {
    const one = await repo({ agent: plain });
    const cli = (args: string[]) => conductor(args, { cwd: one.root, home: one.home });
    const ran = await cli(["run", "--output", "plain"]);
    expect(ran.exitCode, ran.all).toBe(0);
    const [id] = readdirSync(path.join(one.root, ".conductor", "runs"));
    const dir = path.join(one.root, ".conductor", "runs", id as string);
    const events = path.join(dir, "events.jsonl");
    const written = readFileSync(events, "utf8");
    const commands = [
      ["report"],
      ["report", "--format", "junit"],
      ["report", "--format", "markdown"],
      ["status"],
      ["logs", "a"],
      ["checks"],
      ["diff", "a", "--stat"],
    ];
    const forgeries: [string, () => void, string][] = [
      [
        "a workspace status",
        () =>
          writeFileSync(
            events,
            written.replace(
              '"workspace.finished","workspace":"a","status":"succeeded"',
              '"workspace.finished","workspace":"a","status":"bogus"',
            ),
          ),
        `${events}, line`,
      ],
      [
        "an event type",
        () =>
          writeFileSync(
            events,
            written.replace('"type":"workspace.started"', '"type":"workspace.bogus"'),
          ),
        `${events}, line 2: its type is "workspace.bogus"`,
      ],
      [
        "run.json without events",
        () => {
          renameSync(events, `${events}.away`);
          const state = JSON.parse(readFileSync(path.join(dir, "run.json"), "utf8"));
          state.workspaces.a.status = "bogus";
          writeFileSync(path.join(dir, "run.json"), JSON.stringify(state));
        },
        `${path.join(dir, "run.json")}: the status of workspace "a" is "bogus"`,
      ],
    ];
    for (const [what, forge, said] of forgeries) {
      forge();
      for (const args of commands) {
        const result = await cli(args);
        const label = `${what}, ${args.join(" ")}: ${result.all}`;
        expect(result.exitCode, label).toBe(2);
        expect(result.stderr, label).toContain(`the run in ${dir} is damaged: ${said}`);
        expect(result.stderr, label).toContain("bogus");
        expect(result.stderr, label).not.toContain("internal error");
        expect(hasStackTrace(result.all), label).toBe(false);
      }
    }
  });

  it("a moved repository: diff, continue and archive refuse with the way back; the workspace stays succeeded", async () => {
    const one = await repo({ agent: plain });
    const ran = await conductor(["run", "--output", "plain"], { cwd: one.root, home: one.home });
    expect(ran.exitCode, ran.all).toBe(0);
    const moved = `${one.root}-moved`;
    renameSync(one.root, moved);
    let printed = "";
    try {
      for (const args of [
        ["diff", "a"],
        ["continue", "a", "more"],
        ["archive", "a"],
      ]) {
        const result = await conductor(args, { cwd: moved, home: one.home });
        expect(result.exitCode, `${args.join(" ")}: ${result.all}`).toBe(2);
        expect(result.stderr).toContain(`was made in ${one.root}`);
        expect(result.stderr).toContain(shellCommand(["mv", moved, one.root]));
        expect(hasStackTrace(result.all)).toBe(false);
        printed = result.stderr;
      }
      // The way back works as printed.
      const way = /\((mv [^)]*)\)/.exec(printed)?.[1] ?? "";
      expect((await execa("sh", ["-c", way], { reject: false })).exitCode, way).toBe(0);
      const back = await conductor(["diff", "a", "--stat"], { cwd: one.root, home: one.home });
      expect(back.exitCode, back.all).toBe(0);
    } finally {
      if (existsSync(moved)) renameSync(moved, one.root);
    }
    expect(latestSummary(one.root).workspaces[0]?.status).toBe("succeeded");
  });

  it("a task named constructor runs, and status, report and archive read its events", async () => {
    const one = await repoWithConfig({ agent: plain, tasks: [{ id: "constructor", prompt: "p" }] });
    repos.push(one);
    const cli = (args: string[]) => conductor(args, { cwd: one.root, home: one.home });
    const ran = await cli(["run", "--output", "plain"]);
    expect(ran.exitCode, ran.all).toBe(0);
    for (const args of [
      ["status"],
      ["report", "--format", "markdown"],
      ["archive", "constructor"],
    ]) {
      const result = await cli(args);
      expect(result.exitCode, `${args.join(" ")}: ${result.all}`).toBe(0);
      expect(hasStackTrace(result.all)).toBe(false);
    }
  });
});
