// A run budget with the real codex binary against the scripted model server, which reports
// scripted token usage per response: the budget is reached mid-run by one workspace's turn, the
// other workspace's running turn is stopped after the grace period with its work kept, and the
// workspace that had not started never starts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { markerScript, SCRIPTED_MODEL, type ScriptedReply } from "../../src/model-server/server.js";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig } from "../helpers/run-repo.js";
import { useScriptedCodex } from "../helpers/scripted-agents.js";

const routes: Record<string, readonly ScriptedReply[]> = {
  "[budget:big]": [
    // Long enough for slow to have written its file before the budget is reached.
    { kind: "exec", cmd: "sleep 3; echo big > big.txt" },
    { kind: "message", text: "Done, expensively.", usage: { input: 5000, output: 1000 } },
  ],
  "[budget:slow]": [{ kind: "exec", cmd: "echo started > slow.txt" }, { kind: "hang" }],
  "[budget:later]": [{ kind: "message", text: "Never asked." }],
};
const codex = useScriptedCodex(markerScript(routes));
let repo: TestRepo | undefined;

afterAll(async () => {
  await repo?.remove();
});

describe("a run budget with the real codex", () => {
  it("stops at the budget: no new turn, the running turn cancelled after the grace, work kept", async () => {
    repo = await repoWithConfig(
      {
        concurrency: 2,
        budget: { tokens: 3000, grace: "1s" },
        prices: { [SCRIPTED_MODEL]: { input: 1.25, output: 10 } },
        ...codex.config(),
        tasks: ["big", "slow", "later"].map((id) => ({
          id,
          prompt: `Do the ${id} task. [budget:${id}]`,
        })),
      },
      { "README.md": "# budget\n" },
    );

    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toContain("the run's budget is reached");
    const summary = latestSummary(repo.root);
    expect(summary.reason).toBe("budget");
    expect(summary.budget?.reached?.limit).toBe("tokens");
    const byName = Object.fromEntries(summary.workspaces.map((w) => [w.name, w]));
    // big's turn completed (codex reports usage when a turn completes) and was committed.
    expect(byName.big?.status).toBe("succeeded");
    expect(byName.big?.tokens?.totalTokens).toBeGreaterThanOrEqual(6000);
    expect(byName.big?.cost).toBeGreaterThan(0);
    // slow was in its turn: stopped after the grace, its file still in the worktree.
    expect(byName.slow?.status).toBe("failed");
    expect(byName.slow?.failure?.reason).toBe("budget");
    expect(readFileSync(path.join(byName.slow?.path as string, "slow.txt"), "utf8")).toBe(
      "started\n",
    );
    // later never started, and the model never saw its prompt.
    expect(byName.later?.status).toBe("skipped");
    expect(byName.later?.failure?.reason).toBe("budget");
    expect(codex.server.requests.some((request) => request.prompt.includes("[budget:later]"))).toBe(
      false,
    );
    expect(summary.totals.cost).toBeGreaterThan(0);
  });
});
