import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import type { RunSummary } from "../../src/report/summary.js";
import { createTestRepo, type TestRepo } from "./git-repo.js";

/** A test repository whose conductor.yaml (committed) is `config`, with workspaces under its home. */
export async function repoWithConfig(
  config: Record<string, unknown>,
  files: Record<string, string> = {},
): Promise<TestRepo> {
  const repo = await createTestRepo({ "README.md": "# test\n", ...files });
  const workspaces = (config.workspaces ?? {}) as Record<string, unknown>;
  const full = {
    version: 1,
    ...config,
    workspaces: { dir: path.join(repo.home, "workspaces"), ...workspaces },
  };
  await repo.write({ "conductor.yaml": stringify(full) });
  await repo.commitAll("add conductor.yaml");
  return repo;
}

/** Tasks `ids` with a one-line prompt each. */
export function tasks(...ids: string[]): { id: string; prompt: string }[] {
  return ids.map((id) => ({ id, prompt: `work on ${id}` }));
}

/** Ids of the runs of a repository, oldest first. */
export function runIds(root: string): string[] {
  return readdirSync(path.join(root, ".conductor", "runs")).sort();
}

/** The JSON summary of the latest run. */
export function latestSummary(root: string): RunSummary {
  const ids = runIds(root);
  const file = path.join(root, ".conductor", "runs", ids[ids.length - 1] as string, "summary.json");
  return JSON.parse(readFileSync(file, "utf8")) as RunSummary;
}

/** Pids of live processes whose environment carries CONDUCTOR_RUN_ID=`runId` (Linux). */
export function processesOfRun(runId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0");
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      const zombie = stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
      if (!zombie && environ.includes(`CONDUCTOR_RUN_ID=${runId}`)) pids.push(Number(entry));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}

/** Waits until `condition` holds, polling; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs = 20_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
