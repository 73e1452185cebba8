// State on disk that is damaged or not what conductor wrote (the port registry, run folders)
// never makes conductor crash, hand out what is in use, or break every other run.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
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
      reservations: { workspace: string }[];
    };
    expect(written.reservations.map((reservation) => reservation.workspace)).toEqual(["a"]);
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
    const result = await conductor(["run", "--output", "plain"], { cwd: one.root, home: one.home });
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
