// Every live workspace gets its own free block of ports, also across conductor processes.
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { repoWithConfig, tasks } from "../helpers/run-repo.js";

const repos: TestRepo[] = [];
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.remove();
});

/** Records the workspace's CONDUCTOR_PORT in a committed file, after holding it a moment. */
const RECORD_PORT = 'echo "$CONDUCTOR_PORT" > port.txt; sleep 0.3';

async function portsOf(repo: TestRepo, ids: readonly string[]): Promise<number[]> {
  return Promise.all(
    ids.map(async (id) => Number(await repo.git("show", `conductor/${id}:port.txt`))),
  );
}

/** Whether the blocks [p, p+size) are pairwise disjoint. */
function disjoint(starts: readonly number[], size: number): boolean {
  const sorted = [...starts].sort((a, b) => a - b);
  return sorted.every(
    (start, index) => index === 0 || start >= (sorted[index - 1] as number) + size,
  );
}

describe("port blocks", () => {
  it("gives concurrent workspaces distinct blocks of the configured size", async () => {
    const ids = ["p1", "p2", "p3", "p4", "p5", "p6"];
    const repo = await repoWithConfig({
      concurrency: 6,
      workspaces: { ports: 5 },
      agent: { kind: "command", command: RECORD_PORT },
      tasks: tasks(...ids),
    });
    repos.push(repo);
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(0);
    const ports = await portsOf(repo, ids);
    expect(ports.every((port) => Number.isInteger(port) && port >= 1024)).toBe(true);
    expect(disjoint(ports, 5)).toBe(true);
  });

  it("gives two conductor processes running at once blocks that do not overlap", async () => {
    const first = await repoWithConfig({
      concurrency: 4,
      agent: { kind: "command", command: RECORD_PORT },
      tasks: tasks("a1", "a2", "a3", "a4"),
    });
    const second = await repoWithConfig({
      concurrency: 4,
      agent: { kind: "command", command: RECORD_PORT },
      tasks: tasks("b1", "b2", "b3", "b4"),
    });
    repos.push(first, second);
    // One home, so both processes share the machine-wide registry under ~/.conductor.
    const home = first.home;
    const [a, b] = await Promise.all([
      conductor(["run", "--output", "plain"], { cwd: first.root, home }),
      conductor(["run", "--output", "plain"], { cwd: second.root, home }),
    ]);
    expect(a.exitCode, a.all).toBe(0);
    expect(b.exitCode, b.all).toBe(0);
    const ports = [
      ...(await portsOf(first, ["a1", "a2", "a3", "a4"])),
      ...(await portsOf(second, ["b1", "b2", "b3", "b4"])),
    ];
    expect(disjoint(ports, 10)).toBe(true);
  });

  it("skips a block when one of its ports is already bound by another program", async () => {
    const repo = await repoWithConfig({
      workspaces: { ports: 3 },
      agent: { kind: "command", command: RECORD_PORT },
      tasks: tasks("busy"),
    });
    repos.push(repo);
    // The preferred block of the first workspace starts at the registry's first port.
    const blocker = await listening(20001);
    try {
      const result = await conductor(["run", "--output", "plain"], {
        cwd: repo.root,
        home: repo.home,
      });
      expect(result.exitCode, result.all).toBe(0);
      const [port] = await portsOf(repo, ["busy"]);
      expect(port === undefined || (port <= 20001 && 20001 < port + 3)).toBe(false);
    } finally {
      blocker.close();
    }
  });
});

/**
 * A server bound to `port`. Other test files' conductor runs check ports by binding them for a
 * moment, so the port may be briefly taken: try again a little later, and fail only on an error
 * that is not that.
 */
async function listening(port: number): Promise<Server> {
  for (let attempt = 0; ; attempt++) {
    const server = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", resolve);
      });
      return server;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
