// `conductor demo --budget`: the real codex, offline, under a token budget of half what the three
// demo tasks need. The run stops at the budget with reason budget; the finished work is committed.
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { demoTokensNeeded } from "../../src/demo/script.js";
import type { RunSummary } from "../../src/report/summary.js";
import { conductor } from "../helpers/cli.js";

let demoDir: string | undefined;
afterEach(() => {
  if (demoDir !== undefined) rmSync(demoDir, { recursive: true, force: true });
  demoDir = undefined;
});

describe("conductor demo --budget", () => {
  it("stops cleanly at a token budget of half what its tasks need, losing nothing", async () => {
    const result = await conductor(["demo", "--budget", "--output", "plain"], {
      cwd: process.cwd(),
    });
    const repo = /conductor demo: repository (\S+)/.exec(result.stdout)?.[1];
    expect(repo, result.all).toBeDefined();
    demoDir = path.dirname(repo as string);
    expect(result.exitCode, result.all).toBe(1);
    const half = Math.floor(demoTokensNeeded() / 2);
    expect(result.all).toContain(`the run's budget is reached`);
    expect(result.all).toContain("reason: budget");
    const runs = path.join(repo as string, ".conductor", "runs");
    const runId = /run (\S+) started/.exec(result.stdout)?.[1];
    const summary = JSON.parse(
      readFileSync(path.join(runs, runId as string, "summary.json"), "utf8"),
    ) as RunSummary;
    expect(summary.reason).toBe("budget");
    expect(summary.budget?.limits.tokens).toBe(half);
    // Some work finished and is committed; the rest did not start and waits for a resume.
    const succeeded = summary.workspaces.filter((w) => w.status === "succeeded");
    const stopped = summary.workspaces.filter((w) => w.failure?.reason === "budget");
    expect(succeeded.length).toBeGreaterThan(0);
    expect(stopped.length).toBeGreaterThan(0);
    expect(succeeded.length + stopped.length).toBe(3);
    for (const workspace of succeeded) {
      const log = await execa("git", ["log", "--oneline", `${workspace.branch}`, "-1"], {
        cwd: repo as string,
      });
      expect(log.stdout).toContain(`${workspace.task}:`);
    }
    // Nothing is spent past the budget but the turns that were already running.
    expect(summary.totals.tokens.totalTokens).toBeLessThan(demoTokensNeeded());
  });
});
