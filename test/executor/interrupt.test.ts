// Ctrl-C and SIGTERM: stop, kill every child process group, keep the work, resume later.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { conductor, startConductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import {
  latestSummary,
  processesOfRun,
  repoWithConfig,
  runIds,
  waitFor,
} from "../helpers/run-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** The newest run's id and the workspaces that have started `step` so far, from its events. */
function startedSoFar(root: string, step: string): { runId: string; started: string[] } {
  const ids = existsSync(path.join(root, ".conductor", "runs")) ? runIds(root) : [];
  const runId = ids[ids.length - 1] ?? "";
  const events = path.join(root, ".conductor", "runs", runId, "events.jsonl");
  if (runId === "" || !existsSync(events)) return { runId, started: [] };
  const started = readFileSync(events, "utf8")
    .split("\n")
    .filter((line) => line.includes('"step.started"') && line.includes(`"step":"${step}"`))
    .map((line) => (JSON.parse(line) as { workspace: string }).workspace);
  return { runId, started: [...new Set(started)] };
}

/**
 * Waits until `count` workspaces have started `step` (any of them: with two slots, whichever two
 * were ready first), reading the run's events as they are written. Resolves with the run id and
 * the names of those workspaces.
 */
async function stepsStarted(
  root: string,
  step: string,
  count: number,
): Promise<{ runId: string; started: string[] }> {
  let seen = startedSoFar(root, step);
  await waitFor(
    () => {
      seen = startedSoFar(root, step);
      return seen.started.length >= count;
    },
    20_000,
    `${count} workspace(s) to start ${step}`,
  );
  return seen;
}

/** Waits until `workspace`'s step has started (see {@link stepsStarted}); the run id. */
async function stepStarted(root: string, workspace: string, step: string): Promise<string> {
  let seen = startedSoFar(root, step);
  await waitFor(
    () => {
      seen = startedSoFar(root, step);
      return seen.started.includes(workspace);
    },
    20_000,
    `${workspace} ${step}`,
  );
  return seen.runId;
}

/** Config whose setup or agent hangs (with a grandchild) until the flag file exists. */
function hangingIn(step: "setup" | "agent") {
  const hang =
    'while [ ! -f "$CONDUCTOR_ROOT_PATH/.conductor/go" ]; do sleep 0.1; done; (sleep 300 &); sleep 0.2';
  return {
    concurrency: 2,
    agent: {
      kind: "command",
      command: step === "agent" ? `${hang}; echo done > done.txt` : "echo done > done.txt",
    },
    scripts: step === "setup" ? { setup: hang } : {},
    tasks: [
      { id: "one", prompt: "1" },
      { id: "two", prompt: "2" },
      { id: "three", prompt: "3" },
    ],
  };
}

describe.each(["setup", "agent"] as const)("SIGINT during %s", (step) => {
  it("exits 130, leaves no process of the run, keeps the worktrees, and --resume finishes the run", async () => {
    repo = await repoWithConfig(hangingIn(step));
    const child = startConductor(["run", "--output", "plain"], { cwd: repo.root, home: repo.home });
    const { runId, started } = await stepsStarted(repo.root, step, 2);
    child.kill("SIGINT");
    const result = await child;

    expect(result.exitCode, result.all).toBe(130);
    expect(result.stderr).toContain(`conductor run --resume ${runId}`);
    expect(processesOfRun(runId)).toEqual([]);
    const interrupted = latestSummary(repo.root);
    expect(interrupted.status).toBe("interrupted");
    // The two in their step when Ctrl-C came are interrupted; the third never got a slot.
    const expected = Object.fromEntries(
      ["one", "two", "three"].map((name) => [
        name,
        started.includes(name) ? "interrupted" : "pending",
      ]),
    );
    expect(Object.fromEntries(interrupted.workspaces.map((w) => [w.name, w.status]))).toEqual(
      expected,
    );
    for (const name of started) {
      expect(existsSync(path.join(repo.home, "workspaces", name))).toBe(true);
    }

    await repo.write({ ".conductor/go": "" });
    const resumed = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(runIds(repo.root)).toEqual([runId]);
    expect(latestSummary(repo.root).workspaces.every((w) => w.status === "succeeded")).toBe(true);
    for (const id of ["one", "two", "three"]) {
      expect(await repo.git("show", `conductor/${id}:done.txt`)).toBe("done");
    }
    expect(processesOfRun(runId)).toEqual([]);
  });
});

describe("interrupting conductor", () => {
  it("SIGTERM stops a run like Ctrl-C", async () => {
    repo = await repoWithConfig(hangingIn("agent"));
    const child = startConductor(["run", "--output", "json"], { cwd: repo.root, home: repo.home });
    const { runId } = await stepsStarted(repo.root, "agent", 1);
    child.kill("SIGTERM");
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(result.stdout).toContain('"type":"run.interrupting","signal":"SIGTERM"');
    expect(processesOfRun(runId)).toEqual([]);
  });

  it("a second Ctrl-C exits at once and still kills the children", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "trap '' TERM; sleep 300" },
      tasks: [{ id: "stubborn", prompt: "ignore SIGTERM" }],
    });
    const child = startConductor(["run", "--output", "plain"], { cwd: repo.root, home: repo.home });
    const runId = await stepStarted(repo.root, "stubborn", "agent");
    // The step records the repository's refs before it starts the agent: wait for the agent
    // itself, which must be there for the second Ctrl-C to have children to kill.
    await waitFor(() => processesOfRun(runId).length > 0, 20_000, "the agent to start");
    child.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = Date.now();
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(Date.now() - second).toBeLessThan(2000);
    await waitFor(() => processesOfRun(runId).length === 0, 5000, "children to die");
  });

  it("keeps an interrupted agent's uncommitted work on a ref before the resumed agent starts afresh", async () => {
    repo = await repoWithConfig({
      agent: {
        kind: "command",
        command:
          'if [ -f "$CONDUCTOR_ROOT_PATH/.conductor/go" ]; then echo done > done.txt; else echo half > half.txt; sleep 300; fi',
      },
      tasks: [{ id: "halfway", prompt: "h" }],
    });
    const child = startConductor(["run", "--output", "plain"], { cwd: repo.root, home: repo.home });
    const runId = await stepStarted(repo.root, "halfway", "agent");
    const half = path.join(repo.home, "workspaces", "halfway", "half.txt");
    await waitFor(() => existsSync(half), 20_000, "half.txt");
    child.kill("SIGINT");
    expect((await child).exitCode).toBe(130);

    await repo.write({ ".conductor/go": "" });
    const resumed = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(existsSync(half)).toBe(false);
    const saved = `refs/conductor/saved/${runId}/halfway/1`;
    expect(await repo.git("show", `${saved}:half.txt`)).toBe("half");
    expect(await repo.git("ls-tree", "--name-only", "conductor/halfway")).not.toContain("half.txt");
    const log = readFileSync(
      path.join(repo.root, ".conductor", "runs", runId, "workspaces", "halfway", "agent.log"),
      "utf8",
    );
    expect(log).toContain(saved);
  });

  it("refuses to resume when the plan changed, and says why", async () => {
    repo = await repoWithConfig(hangingIn("agent"));
    const child = startConductor(["run", "--output", "plain"], { cwd: repo.root, home: repo.home });
    await stepsStarted(repo.root, "agent", 1);
    child.kill("SIGINT");
    await child;
    const config = readFileSync(path.join(repo.root, "conductor.yaml"), "utf8");
    const changed = config.replace(/prompt: ["']?1["']?\n/, "prompt: changed\n");
    expect(changed).not.toBe(config);
    // Should resume wrongly go ahead, it must not hang on the flag file.
    await repo.write({ "conductor.yaml": changed, ".conductor/go": "" });

    const resumed = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(resumed.exitCode).toBe(2);
    expect(resumed.stderr).toContain("the plan changed");
    expect(resumed.stderr).not.toMatch(/\n\s+at /);
  });
});
