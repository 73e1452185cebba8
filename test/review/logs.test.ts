import { appendFile, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FOLLOW_INTERVAL_MS } from "../../src/review/follow-file.js";
import { type ReviewRepo, readOr, reviewRepo, runAll, waitFor } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("conductor logs", () => {
  it("prints the log of the step where the workspace stopped, else the agent's", async () => {
    repo = await reviewRepo(
      [
        { id: "good", agent: "echo agent-of-good" },
        { id: "bad", agent: "echo agent-of-bad", check: "echo check-of-bad; exit 1" },
      ],
      { scripts: { setup: "echo setting-up-$CONDUCTOR_TASK_ID", check: "echo check-ok" } },
    );
    await runAll(repo);
    const good = await repo.cli(["logs", "good"]);
    expect(good.exitCode, good.all).toBe(0);
    // (execa drops the final newline of what it captured)
    expect(good.stdout).toBe("agent-of-good");
    const bad = await repo.cli(["logs", "bad"]);
    expect(bad.exitCode, bad.all).toBe(0);
    expect(bad.stdout).toContain("check-of-bad");
    expect(bad.stdout).not.toContain("agent-of-bad");
  });

  it("redacts as it prints: a secret written into the log after the run is not shown", async () => {
    const secret = "sk-logs-redacted-7f3a9c1e5b";
    repo = await reviewRepo([{ id: "quiet", agent: "echo working" }]);
    await runAll(repo);
    // The log is a file in the repository: a later agent could write into it, escaped in JSON too.
    const log = path.join(repo.runDir(), "workspaces", "quiet", "agent.log");
    await appendFile(log, `raw ${secret}\n{"text":"${secret.replace(/-/g, "\\u002d")}"}\n`);
    const shown = await repo.cli(["logs", "quiet"], { OPENAI_API_KEY: secret });
    expect(shown.exitCode, shown.all).toBe(0);
    expect(shown.stdout).toContain("working");
    expect(shown.stdout).toContain("raw [redacted]");
    expect(shown.stdout).not.toContain(secret);
    expect(shown.stdout).not.toContain("sk\\u002dlogs");
  });

  it("prints the log of the step named by --step and refuses a step without a log", async () => {
    repo = await reviewRepo([{ id: "one" }], {
      scripts: { setup: "echo setting-up-$CONDUCTOR_TASK_ID" },
    });
    await runAll(repo);
    const setup = await repo.cli(["logs", "one", "--step", "setup"]);
    expect(setup.exitCode, setup.all).toBe(0);
    expect(setup.stdout).toContain("setting-up-one");

    const unknown = await repo.cli(["logs", "one", "--step", "deploy"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain(
      "--step deploy is not a step with a log: use setup, agent, check, archive, run",
    );

    const missing = await repo.cli(["logs", "one", "--step", "check"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("workspace one has no check log");
  });

  it("a log removed after the run wrote it is named as missing, and a folder in its place is refused (exit 2)", async () => {
    repo = await reviewRepo([{ id: "quiet", agent: "echo working" }]);
    await runAll(repo);
    const log = path.join(repo.runDir(), "workspaces", "quiet", "agent.log");
    await rm(log);
    const missing = await repo.cli(["logs", "quiet"]);
    expect(missing.exitCode, missing.all).toBe(2);
    expect(missing.stderr).toContain(
      `workspace quiet has no agent log: its agent step wrote one, but ${log} is missing`,
    );
    expect(missing.stderr).not.toContain("did not run or printed nothing");
    expect(missing.stderr).toContain("conductor status --run");
    await mkdir(log);
    const folder = await repo.cli(["logs", "quiet"]);
    expect(folder.exitCode, folder.all).toBe(2);
    expect(folder.stderr).toContain(`workspace quiet's agent log ${log} is not a file`);
    expect(folder.stderr).not.toContain("internal error");
  });

  it("follows a log as it grows until the run finishes", async () => {
    const marker = path.join("$HOME", "go");
    // The agent prints a line, waits for the test's go-ahead, prints another and ends.
    const agent = `echo first-line; echo ................................; while [ ! -f "${marker}" ]; do sleep 0.05; done; echo second-line; echo ................................`;
    repo = await reviewRepo([{ id: "live", agent }]);
    const { home } = repo;
    const run = repo.start(["run", "--output", "plain"]);
    await waitFor(
      "the agent to start",
      () =>
        repo?.runIds().length === 1 &&
        readOr(path.join(repo.runDir(), "workspaces", "live", "prompt.md")) !== "",
    );
    const follow = repo.start(["logs", "live", "--follow"]);
    let seen = "";
    follow.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
    });
    await waitFor("the first line to be followed", () => seen.includes("first-line"));
    expect(seen).not.toContain("second-line");
    await import("node:fs/promises").then((fs) => fs.writeFile(path.join(home, "go"), ""));
    const [followed, ran] = await Promise.all([follow, run]);
    expect(ran.exitCode, ran.all).toBe(0);
    expect(followed.exitCode, followed.all).toBe(0);
    expect(followed.stdout).toMatch(/^first-line\n\.+\nsecond-line\n\.+$/);
  });

  it("follows the run script's log while conductor serve runs it, after the run has finished", async () => {
    const marker = path.join("$HOME", "go");
    // The dev server prints a line, waits for the test's go-ahead, prints another and ends.
    const server = `echo first-serve; echo ................................; while [ ! -f "${marker}" ]; do sleep 0.05; done; echo second-serve; echo ................................`;
    repo = await reviewRepo([{ id: "web" }], { scripts: { run: server } });
    await runAll(repo);
    const { home } = repo;
    const log = path.join(repo.runDir(), "workspaces", "web", "run.log");
    const serve = repo.start(["serve", "web"]);
    await waitFor("the server's first line", () => readOr(log).includes("first-serve"));
    const follow = repo.start(["logs", "web", "--step", "run", "--follow"]);
    let seen = "";
    follow.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
    });
    let exited = false;
    void follow.finally(() => {
      exited = true;
    });
    await waitFor("the first line to be followed", () => seen.includes("first-serve"));
    // Several polls with nothing new: a follow that ends when the (finished) run is done has
    // ended by now; this one must wait for the server.
    await new Promise((resolve) => setTimeout(resolve, 4 * FOLLOW_INTERVAL_MS));
    const stillFollowing = !exited;
    await import("node:fs/promises").then((fs) => fs.writeFile(path.join(home, "go"), ""));
    const [followed, served] = await Promise.all([follow, serve]);
    expect(stillFollowing).toBe(true);
    expect(served.exitCode, served.all).toBe(0);
    expect(followed.exitCode, followed.all).toBe(0);
    expect(followed.stdout).toMatch(/first-serve\n\.+\nsecond-serve\n\.+$/);
  });
});
