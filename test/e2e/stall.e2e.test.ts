// Stalls end: the real codex and claude binaries pointed at a local port where nothing listens
// retry for minutes (codex "waiting for network" forever); conductor fails each workspace after
// agent.connect_timeout as `unreachable`, names the URL without its credentials, and stops the
// run early with one line. A silent agent is ended after agent.idle_timeout.
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { claudeOfflineEnv } from "../../src/model-server/anthropic.js";
import {
  codexProviderConfig,
  markerScript,
  SCRIPTED_MODEL,
  startModelServer,
} from "../../src/model-server/server.js";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig, tasks } from "../helpers/run-repo.js";
import { claudeHomeForTest, codexHomeForTest } from "../helpers/temp-homes.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** A local port nobody listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

const CONNECT_TIMEOUT_MS = 10_000;

function expectStoppedEarly(
  result: { exitCode: number; stderr: string; all: string },
  url: string,
  ms: number,
) {
  expect(result.exitCode, result.all).toBe(1);
  const summary = latestSummary((repo as TestRepo).root);
  // concurrency 2: the two whose worktrees were ready first took the slots (either two of the
  // three), and the third never started, because both running workspaces hit the same wall.
  const failed = summary.workspaces.filter((w) => w.status === "failed");
  const skipped = summary.workspaces.filter((w) => w.status === "skipped");
  expect(failed, result.all).toHaveLength(2);
  for (const workspace of failed) {
    expect(workspace.failure?.reason).toBe("unreachable");
    expect(workspace.failure?.message).toContain(url);
  }
  expect(skipped, result.all).toHaveLength(1);
  expect(skipped[0]?.failure?.message).toContain("every running workspace failed to reach");
  const lines = result.stderr.split("\n").filter((line) => line.includes("failed to reach"));
  expect(lines, result.stderr).toEqual([
    `conductor: all 2 workspaces failed to reach ${url} for 10.0s; stopped early, 1 not started. Check the network and the provider settings; \`conductor doctor\` shows the configuration in use.`,
  ]);
  // Ended by connect_timeout, not by the agent's own retries nor the 60-minute timeout.
  expect(ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS);
  expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 15_000);
}

describe("an agent that cannot reach its provider", () => {
  it("codex: every workspace fails as unreachable after connect_timeout, naming the URL without credentials, and the run stops early", async () => {
    const port = await closedPort();
    const codexHome = await codexHomeForTest();
    // Default retries: codex itself would keep "waiting for network" for ever.
    const provider = `{ name = "dead", base_url = "http://user:hunter2@127.0.0.1:${port}/v1", wire_api = "responses" }`;
    repo = await repoWithConfig({
      env: { CODEX_HOME: codexHome },
      concurrency: 2,
      agent: {
        model: SCRIPTED_MODEL,
        connect_timeout: "10s",
        config: { model_provider: '"dead"', "model_providers.dead": provider },
      },
      tasks: tasks("one", "two", "three"),
    });
    const started = Date.now();
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    const url = `http://***:***@127.0.0.1:${port}/v1`;
    expectStoppedEarly(result, url, Date.now() - started);
    expect(result.all).not.toContain("hunter2");
  });

  it("codex: one unreachable workspace among ones that reach their provider does not stop the run", async () => {
    const port = await closedPort();
    const server = await startModelServer({
      script: markerScript({ "[ok]": [{ kind: "message", text: "Done." }] }),
    });
    try {
      const dead = codexProviderConfig(`http://127.0.0.1:${port}/v1`, "dead");
      repo = await repoWithConfig({
        env: { CODEX_HOME: await codexHomeForTest() },
        concurrency: 2,
        agent: {
          model: SCRIPTED_MODEL,
          connect_timeout: "10s",
          config: codexProviderConfig(server.url),
        },
        tasks: [
          { id: "dead", prompt: "cannot work [ok]", agent: { config: dead } },
          { id: "first", prompt: "works [ok]" },
          { id: "second", prompt: "works [ok]" },
          { id: "third", prompt: "works [ok]" },
        ],
      });
      const result = await conductor(["run", "--output", "plain"], {
        cwd: repo.root,
        home: repo.home,
      });
      expect(result.exitCode, result.all).toBe(1);
      const statuses = Object.fromEntries(
        latestSummary(repo.root).workspaces.map((w) => [w.name, w.failure?.reason ?? w.status]),
      );
      expect(statuses).toEqual({
        dead: "unreachable",
        first: "succeeded",
        second: "succeeded",
        third: "succeeded",
      });
      expect(result.stderr).not.toContain("failed to reach");
    } finally {
      await server.close();
    }
  });

  it("claude: every workspace fails as unreachable after connect_timeout and the run stops early", async () => {
    const port = await closedPort();
    const home = await claudeHomeForTest();
    const url = `http://127.0.0.1:${port}`;
    const { CLAUDE_CODE_MAX_RETRIES: _noRetryLimit, ...env } = claudeOfflineEnv(url, home);
    repo = await repoWithConfig({
      env,
      concurrency: 2,
      agent: { kind: "claude", model: SCRIPTED_MODEL, connect_timeout: "10s" },
      tasks: tasks("one", "two", "three"),
    });
    const started = Date.now();
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expectStoppedEarly(result, `${url}/`, Date.now() - started);
  });
});

describe("an agent that falls silent", () => {
  it("is ended after idle_timeout with reason idle", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "echo working; sleep 30", idle_timeout: "2s" },
      tasks: tasks("quiet"),
    });
    const started = Date.now();
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    const ms = Date.now() - started;
    expect(result.exitCode, result.all).toBe(1);
    const [quiet] = latestSummary(repo.root).workspaces;
    expect(quiet?.failure?.reason).toBe("idle");
    expect(quiet?.failure?.message).toBe("the agent printed nothing for 2.0s and was stopped");
    expect(ms).toBeLessThan(15_000);
  });

  it("is not ended while it keeps printing", async () => {
    repo = await repoWithConfig({
      agent: {
        kind: "command",
        command: "for i in 1 2 3 4; do echo $i; sleep 1; done",
        idle_timeout: "2s",
      },
      tasks: tasks("chatty"),
    });
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(0);
  });
});
