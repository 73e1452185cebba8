// Two `conductor run` processes on one repository at the same time: distinct task selections both
// succeed with their own ports, branches and run folders; the same selection is owned by one run
// and the other never touches what the first one made.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/report/summary.js";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { processesOfRun, repoWithConfig, runIds } from "../helpers/run-repo.js";
import { hasStackTrace, killLeftovers, makeCheckoutBusy, snapshotCheckout } from "./rig.js";

/**
 * The agent records its port, then waits until an agent of the other selection is running too
 * (or 20 s pass), so the two runs overlap for certain however slow the machine is.
 */
const BARRIER_AGENT = [
  'echo "$CONDUCTOR_PORT" > port.txt',
  'touch "$HOME/arrived-$CONDUCTOR_TASK_ID"',
  'other=$(case "$CONDUCTOR_TASK_ID" in a*) echo b;; *) echo a;; esac)',
  "i=0",
  'while [ -z "$(ls "$HOME" | grep "^arrived-$other")" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done',
  'echo "$i" > waited.txt',
].join("; ");

const CONFIG = {
  concurrency: 3,
  agent: { kind: "command", command: BARRIER_AGENT },
  tasks: ["a1", "a2", "a3", "b1", "b2", "b3"].map((id) => ({ id, prompt: `work on ${id}` })),
};

let repo: TestRepo | undefined;
afterEach(async () => {
  if (repo) for (const id of safeRunIds(repo.root)) killLeftovers(id);
  await repo?.remove();
  repo = undefined;
});

function safeRunIds(root: string): string[] {
  try {
    return runIds(root);
  } catch {
    return [];
  }
}

function summaryOf(root: string, runId: string): RunSummary {
  return JSON.parse(
    readFileSync(path.join(root, ".conductor", "runs", runId, "summary.json"), "utf8"),
  ) as RunSummary;
}

/** Every line of a run's events log is whole JSON of that run (no torn or interleaved lines). */
function eventsAreWhole(root: string, runId: string): void {
  const text = readFileSync(path.join(root, ".conductor", "runs", runId, "events.jsonl"), "utf8");
  const lines = text.split("\n");
  expect(lines.at(-1)).toBe("");
  for (const line of lines.slice(0, -1)) {
    const event = JSON.parse(line) as { runId: string };
    expect(event.runId).toBe(runId);
  }
}

/** Worktrees git knows, as path → branch. */
async function worktrees(test: TestRepo): Promise<Record<string, string>> {
  const out = await test.git("worktree", "list", "--porcelain");
  const result: Record<string, string> = {};
  for (const block of out.trim().split("\n\n")) {
    const lines = block.split("\n");
    const where = lines.find((line) => line.startsWith("worktree "))?.slice(9) ?? "";
    const branch = lines.find((line) => line.startsWith("branch "))?.slice(7) ?? "(detached)";
    expect(
      lines.some((line) => line.startsWith("prunable")),
      `${where} is prunable`,
    ).toBe(false);
    result[where] = branch;
  }
  return result;
}

describe("two conductor runs on one repository at once", () => {
  it("with different task selections: both succeed, with disjoint port blocks, their own branches and worktrees, and readable run folders", async () => {
    repo = await repoWithConfig(CONFIG);
    await makeCheckoutBusy(repo);
    const before = await snapshotCheckout(repo);
    const options = { cwd: repo.root, home: repo.home };
    const [first, second] = await Promise.all([
      conductor(["run", "a*", "--output", "plain"], options),
      conductor(["run", "b*", "--output", "plain"], options),
    ]);
    expect(first.exitCode, first.all).toBe(0);
    expect(second.exitCode, second.all).toBe(0);

    const ids = runIds(repo.root);
    expect(ids).toHaveLength(2);
    const summaries = ids.map((id) => summaryOf(repo?.root ?? "", id));
    const names = summaries.flatMap((summary) => summary.workspaces.map((w) => w.name)).sort();
    expect(names).toEqual(["a1", "a2", "a3", "b1", "b2", "b3"]);
    for (const id of ids) {
      eventsAreWhole(repo.root, id);
      const status = await conductor(["status", id, "--json"], options);
      expect(status.exitCode, status.all).toBe(0);
      expect((JSON.parse(status.stdout) as RunSummary).status).toBe("succeeded");
      expect(processesOfRun(id)).toEqual([]);
    }
    // The runs really overlapped: every agent saw one of the other run's agents arrive.
    for (const id of ["a1", "a2", "a3", "b1", "b2", "b3"]) {
      expect(Number(await repo.git("show", `conductor/${id}:waited.txt`)), id).toBeLessThan(400);
    }

    // No port is shared: the blocks of 10 handed out are pairwise disjoint.
    const ports = await Promise.all(
      names.map(async (name) => Number(await repo?.git("show", `conductor/${name}:port.txt`))),
    );
    const sorted = [...ports].sort((a, b) => a - b);
    for (let index = 1; index < sorted.length; index++) {
      expect(
        (sorted[index] as number) - (sorted[index - 1] as number),
        `ports ${sorted.join(", ")}`,
      ).toBeGreaterThanOrEqual(10);
    }
    const registry = JSON.parse(
      readFileSync(path.join(repo.home, ".conductor", "ports.json"), "utf8"),
    ) as { reservations: { start: number; worktree: string }[] };
    expect(registry.reservations.map((r) => r.start).sort((a, b) => a - b)).toEqual(sorted);

    // Every workspace has its own branch and worktree; nothing half-made is left.
    const listed = await worktrees(repo);
    expect(Object.keys(listed)).toHaveLength(7);
    for (const name of names) {
      expect(listed[path.join(repo.home, "workspaces", name)]).toBe(`refs/heads/conductor/${name}`);
    }
    expect(await snapshotCheckout(repo)).toEqual(before);
  });

  it.each([1, 2, 3])(
    "with the same tasks (round %i): one run does each workspace, the other is refused (exit 2, nothing made) or fails it as a conflict, never touching the first run's work",
    async () => {
      repo = await repoWithConfig({
        ...CONFIG,
        agent: { kind: "command", command: 'echo "$CONDUCTOR_PORT" > port.txt; sleep 0.5' },
      });
      const options = { cwd: repo.root, home: repo.home };
      const results = await Promise.all([
        conductor(["run", "--output", "plain"], options),
        conductor(["run", "--output", "plain"], options),
      ]);
      const all = results.map((r) => `exit ${r.exitCode}\n${r.all}`).join("\n----\n");
      for (const result of results) expect(hasStackTrace(result.all), result.all).toBe(false);
      const ids = runIds(repo.root);
      const summaries = ids.map((id) => summaryOf(repo?.root ?? "", id));
      // Each workspace succeeded in exactly one run; wherever it did not, it failed as a conflict
      // at the worktree step.
      const owners = new Map<string, string[]>();
      for (const summary of summaries) {
        for (const workspace of summary.workspaces) {
          if (workspace.status === "succeeded") {
            owners.set(workspace.name, [...(owners.get(workspace.name) ?? []), summary.runId]);
            continue;
          }
          expect(workspace.status, `${JSON.stringify(workspace)}\n${all}`).toBe("failed");
          expect(workspace.step).toBe("worktree");
          expect(["conflict", "git-error"], `${JSON.stringify(workspace)}\n${all}`).toContain(
            workspace.failure?.reason,
          );
        }
      }
      for (const name of ["a1", "a2", "a3", "b1", "b2", "b3"]) {
        expect(owners.get(name), `${name}\n${all}`).toHaveLength(1);
        const owner = summaries.find((summary) => summary.runId === owners.get(name)?.[0]);
        const recorded = owner?.workspaces.find((w) => w.name === name)?.commit;
        expect((await repo.git("rev-parse", `conductor/${name}`)).trim()).toBe(recorded);
        expect(await repo.git("show", `conductor/${name}:port.txt`)).toMatch(/^\d+$/);
      }
      const codes = results.map((result) => result.exitCode).sort();
      if (ids.length === 1) {
        // The loser saw the winner's branches and was refused before creating anything.
        expect(codes, all).toEqual([0, 2]);
        // The loser saw the winner's branches and was told that the run holding them is live.
        expect(results.find((result) => result.exitCode === 2)?.stderr).toMatch(
          /is still running \(live, pid \d+\)|appeared while it was starting/,
        );
      } else {
        // Both passed the up-front check at the same moment; then each workspace went to the run
        // that created it first, and the other failed it as a conflict.
        expect(ids).toHaveLength(2);
        for (const id of ids) eventsAreWhole(repo.root, id);
        expect(
          codes.every((code) => code === 0 || code === 1),
          all,
        ).toBe(true);
      }
      const listed = await worktrees(repo);
      expect(Object.keys(listed)).toHaveLength(7);
    },
  );
});
