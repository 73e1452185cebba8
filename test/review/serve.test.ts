import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import {
  groupMembers,
  killGroups,
  processAlive,
  type ReviewRepo,
  readOr,
  reviewRepo,
  runAll,
  waitFor,
} from "./rig.js";

let repo: ReviewRepo | undefined;
const groups: number[] = [];

afterEach(async () => {
  // Only if a test failed half way: end the groups it started.
  killGroups(groups);
  await repo?.remove();
  repo = undefined;
});

/**
 * A dev server stand-in: prints its port, records its process group and a child's pid, and
 * waits on the child. The dotted line pushes the output past what log redaction holds back.
 */
const RUN_SCRIPT = [
  'echo "port=$CONDUCTOR_PORT name=$CONDUCTOR_WORKSPACE_NAME run=$CONDUCTOR_RUN_ID"',
  'echo $$ > "$HOME/$CONDUCTOR_WORKSPACE_NAME.pgid"',
  "sleep 300 &",
  'echo $! > "$HOME/$CONDUCTOR_WORKSPACE_NAME.child"',
  "echo ................................",
  "wait",
].join("\n");

async function reservedPort(home: string, worktree: string): Promise<number | undefined> {
  const registry = JSON.parse(
    await readFile(path.join(home, ".conductor", "ports.json"), "utf8"),
  ) as {
    reservations: { start: number; worktree: string }[];
  };
  return registry.reservations.find((reservation) => reservation.worktree === worktree)?.start;
}

/** Starts `conductor serve <name>` and waits until its script has printed its port. */
async function serve(name: string) {
  const current = repo as ReviewRepo;
  const child = current.start(["serve", name]);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  let ended: string | undefined;
  void child.then((result) => {
    ended = `conductor serve ${name} ended early with ${result.exitCode}:\n${result.all}`;
  });
  await waitFor(`${name} to serve`, () => {
    if (ended !== undefined) throw new Error(ended);
    return /port=\d+/.test(output) && readOr(path.join(current.home, `${name}.child`)) !== "";
  }).catch((error: Error) => {
    throw new Error(`${error.message}; output so far:\n${output}`);
  });
  const pgid = Number(readOr(path.join(current.home, `${name}.pgid`)));
  const childPid = Number(readOr(path.join(current.home, `${name}.child`)));
  groups.push(pgid);
  return {
    child,
    pgid,
    childPid,
    port: Number(/port=(\d+)/.exec(output)?.[1]),
    output: () => output,
  };
}

/** A process other than conductor listening on `port` of every address, as a dev server would. */
function listenOn(port: number) {
  const child = execa(
    process.execPath,
    ["-e", `require("node:net").createServer().listen(${port}, () => console.log("listening"))`],
    { all: true },
  );
  let output = "";
  child.all?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return Object.assign(child, { output: () => output });
}

describe("conductor serve", () => {
  it("starts the run script on the workspace's port block, and Ctrl-C ends its whole process group", async () => {
    repo = await reviewRepo([{ id: "web" }], { scripts: { run: RUN_SCRIPT } });
    await runAll(repo);
    const runId = repo.runIds()[0];
    const served = await serve("web");
    expect(served.port).toBe(await reservedPort(repo.home, repo.worktree("web")));
    expect(served.output()).toContain(`name=web run=${runId}`);
    expect(groupMembers(served.pgid)).toContain(served.childPid);

    served.child.kill("SIGINT");
    const result = await served.child;
    expect(result.exitCode, result.all).toBe(130);
    expect(result.stderr).toContain(`serving web on port ${served.port}`);
    expect(groupMembers(served.pgid)).toEqual([]);
    expect(processAlive(served.childPid)).toBe(false);
    // The output is also kept in the workspace's run log.
    expect(readOr(path.join(repo.runDir(), "workspaces", "web", "run.log"))).toContain(
      `port=${served.port}`,
    );
  });

  it("serves several workspaces side by side on distinct port blocks", async () => {
    repo = await reviewRepo([{ id: "one" }, { id: "two" }], { scripts: { run: RUN_SCRIPT } });
    await runAll(repo);
    const [one, two] = await Promise.all([serve("one"), serve("two")]);
    expect(one.port).toBe(await reservedPort(repo.home, repo.worktree("one")));
    expect(two.port).toBe(await reservedPort(repo.home, repo.worktree("two")));
    expect(Math.abs(one.port - two.port)).toBeGreaterThanOrEqual(10);

    one.child.kill("SIGTERM");
    two.child.kill("SIGTERM");
    const results = await Promise.all([one.child, two.child]);
    expect(results.map((result) => result.exitCode)).toEqual([130, 130]);
    expect([...groupMembers(one.pgid), ...groupMembers(two.pgid)]).toEqual([]);
  });

  it("with scripts.run_mode nonconcurrent, serving one workspace stops the others' servers first", async () => {
    repo = await reviewRepo([{ id: "one" }, { id: "two" }], {
      scripts: { run: RUN_SCRIPT, run_mode: "nonconcurrent" },
    });
    await runAll(repo);
    const one = await serve("one");
    const two = await serve("two");
    const first = await one.child;
    expect(first.exitCode, first.all).not.toBe(0);
    expect(groupMembers(one.pgid)).toEqual([]);
    expect(processAlive(one.childPid)).toBe(false);
    expect(two.child.exitCode).toBeNull();
    expect(processAlive(two.childPid)).toBe(true);
    two.child.kill("SIGINT");
    const second = await two.child;
    expect(second.stderr).toContain(
      "stopped the server of one first (scripts.run_mode: nonconcurrent)",
    );
    expect(groupMembers(two.pgid)).toEqual([]);
  });

  it("refuses to serve a workspace that is already served, changing nothing", async () => {
    repo = await reviewRepo([{ id: "web" }], { scripts: { run: RUN_SCRIPT } });
    await runAll(repo);
    const served = await serve("web");
    const log = path.join(repo.runDir(), "workspaces", "web", "run.log");
    const logBefore = readOr(log);
    const again = await repo.cli(["serve", "web"]);
    expect(again.exitCode, again.all).toBe(2);
    expect(again.stderr).toContain("web is already being served");
    expect(again.stderr).toContain(`kill -TERM -${served.pgid}`);
    // No second server raced the first for its ports, and the log has no second start.
    expect(readOr(log)).toBe(logBefore);
    expect(served.child.exitCode).toBeNull();
    expect(processAlive(served.childPid)).toBe(true);
    // The command the hint names stops it, as pasted.
    const stop = /`(kill [^`]+)`/.exec(again.stderr)?.[1] as string;
    expect((await execa("sh", ["-c", stop], { reject: false })).exitCode).toBe(0);
    await served.child;
    await waitFor("the server to stop", () => !processAlive(served.childPid));
  });

  it("refuses to serve on a $CONDUCTOR_PORT another process listens on, and the printed kill frees it", async () => {
    repo = await reviewRepo([{ id: "web" }], { scripts: { run: RUN_SCRIPT } });
    await runAll(repo);
    const port = (await reservedPort(repo.home, repo.worktree("web"))) as number;
    // Another project's server took the workspace's first port after the run.
    const squatter = listenOn(port);
    await waitFor("the other server to listen", () => squatter.output().includes("listening"));
    const log = path.join(repo.runDir(), "workspaces", "web", "run.log");
    const logBefore = readOr(log);
    const refused = await repo.cli(["serve", "web"]);
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr).toContain(
      `port ${port}, the $CONDUCTOR_PORT of workspace web, is in use by pid ${squatter.pid} (${process.execPath} -e`,
    );
    expect(refused.stderr).toContain("nothing was started");
    expect(readOr(log)).toBe(logBefore);
    expect(readOr(path.join(repo.home, "web.pgid"))).toBe("");
    // The command the hint names frees the port, as pasted; then the workspace serves on it.
    const stop = /`(kill [^`]+)`/.exec(refused.stderr)?.[1] as string;
    expect(stop).toBe(`kill ${squatter.pid}`);
    expect((await execa("sh", ["-c", stop], { reject: false })).exitCode).toBe(0);
    await squatter.catch(() => undefined);
    const served = await serve("web");
    expect(served.port).toBe(port);
    served.child.kill("SIGINT");
    expect((await served.child).exitCode).toBe(130);
  });

  it("warns of another process on a later port of the block, and serves", async () => {
    repo = await reviewRepo([{ id: "web" }], { scripts: { run: RUN_SCRIPT } });
    await runAll(repo);
    const port = (await reservedPort(repo.home, repo.worktree("web"))) as number;
    const squatter = listenOn(port + 2);
    try {
      await waitFor("the other server to listen", () => squatter.output().includes("listening"));
      const served = await serve("web");
      expect(served.port).toBe(port);
      served.child.kill("SIGINT");
      const result = await served.child;
      expect(result.exitCode, result.all).toBe(130);
      expect(result.stderr).toContain(
        `warning: port ${port + 2} (pid ${squatter.pid} (${process.execPath} -e`,
      );
      expect(result.stderr).toContain("of web's port block is in use already");
    } finally {
      squatter.kill();
      await squatter.catch(() => undefined);
    }
  });

  it("fails clearly when the workspace has no run script", async () => {
    repo = await reviewRepo([{ id: "plain" }]);
    await runAll(repo);
    const result = await repo.cli(["serve", "plain"]);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain("workspace plain has no run script to serve");
    expect(result.stderr).toContain("scripts.run");
  });
});
