import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo, runAll, waitFor } from "../review/rig.js";
import { startPage } from "./page-server.js";

/** POSTs a page action the way the page does. */
async function act(url: string, name: string, action: string) {
  const response = await fetch(`${url}api/workspaces/${name}/actions/${action}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  return (await response.json()) as { ok: boolean; output: string; port?: number };
}

describe("serve from the page", () => {
  let repo: ReviewRepo;
  let page: Awaited<ReturnType<typeof startPage>>;

  beforeAll(async () => {
    repo = await reviewRepo([{ id: "site" }], {
      scripts: {
        run: `node -e 'require("http").createServer((q, s) => s.end("site " + process.env.CONDUCTOR_WORKSPACE_NAME)).listen(Number(process.env.CONDUCTOR_PORT), "127.0.0.1")'`,
      },
    });
    await runAll(repo);
    page = await startPage({ root: repo.root, home: repo.home, runId: repo.runIds()[0] as string });
  });

  afterAll(async () => {
    await page?.close();
    await repo?.remove();
  });

  it("starts the workspace's dev server on its own port, shows the port on its row, and stops it", async () => {
    const started = await act(page.url, "site", "serve-start");
    expect(started.ok, started.output).toBe(true);
    const port = started.port as number;
    expect(started.output).toContain(`serving site on port ${port}`);
    await waitFor(
      "the dev server",
      async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.ok === true,
    );
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("site site");
    const state = (await (await fetch(`${page.url}api/state`)).json()) as {
      workspaces: { servedPort?: number }[];
    };
    expect(state.workspaces[0]?.servedPort).toBe(port);
    const stopped = await act(page.url, "site", "serve-stop");
    expect(stopped.ok, stopped.output).toBe(true);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    const after = (await (await fetch(`${page.url}api/state`)).json()) as {
      workspaces: { servedPort?: number }[];
    };
    expect(after.workspaces[0]?.servedPort).toBeUndefined();
  });
});
