// Faults in one workspace fail that workspace with a reason and a log path; the others go on.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, processesOfRun, repoWithConfig } from "../helpers/run-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** A config where task `bad` misbehaves as `agentCommand` and task `good` works. */
function oneBadTask(bad: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    agent: { kind: "command", command: "echo ok > ok.txt" },
    ...extra,
    tasks: [
      { id: "good", prompt: "behave" },
      { id: "bad", prompt: "misbehave", ...bad },
    ],
  };
}

async function runAndSummarize(config: Record<string, unknown>) {
  repo = await repoWithConfig(config);
  const result = await conductor(["run", "--output", "plain"], { cwd: repo.root, home: repo.home });
  const summary = latestSummary(repo.root);
  const byName = Object.fromEntries(
    summary.workspaces.map((workspace) => [workspace.name, workspace]),
  );
  return { result, summary, good: byName.good, bad: byName.bad };
}

describe("faults in a workspace", () => {
  it("a failing setup script fails that workspace with its exit code and log, and the others go on", async () => {
    const { result, good, bad } = await runAndSummarize(
      oneBadTask({ scripts: { setup: "echo installing; exit 7" } }),
    );
    expect(result.exitCode).toBe(1);
    expect(good?.status).toBe("succeeded");
    expect(bad?.status).toBe("failed");
    expect(bad?.failure).toMatchObject({ reason: "exit-non-zero", step: "setup" });
    expect(bad?.failure?.message).toContain("exited with code 7");
    expect(readFileSync(bad?.failure?.logPath as string, "utf8")).toContain("installing");
    expect(result.stdout).toContain(bad?.failure?.logPath as string);
  });

  it("an agent that exits non-zero fails with its code", async () => {
    const { bad, good } = await runAndSummarize(oneBadTask({ agent: { command: "exit 42" } }));
    expect(good?.status).toBe("succeeded");
    expect(bad?.failure).toMatchObject({ reason: "exit-non-zero", step: "agent" });
    expect(bad?.failure?.message).toContain("42");
  });

  it("an agent that hangs past its timeout is killed with its children and fails as timed out", async () => {
    const { bad, good, summary } = await runAndSummarize(
      oneBadTask({ agent: { command: "sleep 300 & sleep 300", timeout: "1s" } }),
    );
    expect(good?.status).toBe("succeeded");
    expect(bad?.failure).toMatchObject({ reason: "timeout", step: "agent" });
    expect(bad?.durationMs).toBeLessThan(15_000);
    expect(processesOfRun(summary.runId)).toEqual([]);
  });

  it("an agent killed by a signal fails with that signal", async () => {
    const { bad } = await runAndSummarize(oneBadTask({ agent: { command: "kill -9 $$" } }));
    expect(bad?.failure).toMatchObject({ reason: "signal", step: "agent" });
    expect(bad?.failure?.message).toContain("SIGKILL");
  });

  it("megabytes of output and binary junk go to the log and do not stop the workspace", async () => {
    const { bad } = await runAndSummarize(
      oneBadTask({
        agent: { command: "head -c 5000000 /dev/urandom; yes conductor | head -c 3000000; exit 1" },
      }),
    );
    expect(bad?.failure).toMatchObject({ reason: "exit-non-zero", step: "agent" });
    const log = readFileSync(bad?.failure?.logPath as string);
    expect(log.length).toBeGreaterThan(7_000_000);
  });

  it("a failed check still commits the work, so nothing is lost, and fails the workspace", async () => {
    const { bad, good } = await runAndSummarize(
      oneBadTask({ scripts: { check: "echo 'tests fail'; exit 1" } }),
    );
    expect(good?.check).toBe("none");
    expect(bad?.status).toBe("failed");
    expect(bad?.check).toBe("failed");
    expect(bad?.failure).toMatchObject({ reason: "exit-non-zero", step: "check" });
    expect(bad?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await repo?.git("show", "conductor/bad:ok.txt")).toBe("ok");
  });

  it("retries a failed step in a fresh state and succeeds when the retry does", async () => {
    // Outside the main checkout: an agent that writes there fails its workspace.
    const counter = "$HOME/tries-$CONDUCTOR_TASK_ID";
    const { bad, result } = await runAndSummarize({
      retries: 1,
      agent: {
        kind: "command",
        // First try leaves junk behind and fails; the retry must not see that junk.
        command: `echo x >> "${counter}"; if [ "$(wc -l < "${counter}")" -eq 1 ]; then echo junk > junk.txt; exit 1; fi; test ! -e junk.txt && echo ok > ok.txt`,
      },
      tasks: [{ id: "bad", prompt: "flaky" }],
    });
    expect(result.exitCode, result.all).toBe(0);
    expect(bad?.status).toBe("succeeded");
    expect(bad?.tries).toBe(2);
    expect((await repo?.git("ls-tree", "--name-only", "conductor/bad"))?.split("\n")).not.toContain(
      "junk.txt",
    );
  });

  it("a retry gets the copied files as copied, also where the try before left a link in place of one", async () => {
    const counter = "$HOME/tries-$CONDUCTOR_TASK_ID";
    repo = await repoWithConfig(
      {
        retries: 1,
        workspaces: { copy: [".env.local"] },
        agent: {
          kind: "command",
          // The first try puts a link to a file outside in place of the copied file and fails.
          command: `echo x >> "${counter}"; if [ "$(wc -l < "${counter}")" -eq 1 ]; then ln -sf "$HOME/outside.txt" .env.local; exit 1; fi; test ! -L .env.local && grep -q TOKEN=copied .env.local && echo ok > ok.txt`,
        },
        tasks: [{ id: "bad", prompt: "flaky" }],
      },
      { ".gitignore": ".env.local\n" },
    );
    writeFileSync(path.join(repo.root, ".env.local"), "TOKEN=copied\n");
    writeFileSync(path.join(repo.home, "outside.txt"), "not the copy\n");
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(0);
    const bad = latestSummary(repo.root).workspaces.find((workspace) => workspace.name === "bad");
    expect(bad?.status).toBe("succeeded");
    expect(bad?.tries).toBe(2);
    expect(readFileSync(path.join(repo.home, "outside.txt"), "utf8")).toBe("not the copy\n");
  });

  it("with --fail-fast cancels running work and starts nothing new after the first failure", async () => {
    repo = await repoWithConfig({
      concurrency: 2,
      agent: {
        kind: "command",
        command: 'if [ "$CONDUCTOR_TASK_ID" = bad ]; then sleep 1; exit 1; fi; sleep 60',
      },
      tasks: [
        { id: "slow", prompt: "s" },
        { id: "bad", prompt: "b" },
        { id: "later", prompt: "l" },
      ],
    });
    const started = Date.now();
    const result = await conductor(["run", "--fail-fast", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.exitCode).toBe(1);
    const byName = Object.fromEntries(
      latestSummary(repo.root).workspaces.map((w) => [w.name, w.status]),
    );
    expect(byName).toEqual({ slow: "interrupted", bad: "failed", later: "skipped" });
    expect(processesOfRun(latestSummary(repo.root).runId)).toEqual([]);
  });
});
