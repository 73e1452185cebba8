import { appendFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";
import { startPage } from "./page-server.js";

/** One HTTP exchange with full control of the headers (fetch will not send another Host). */
function call(
  port: number,
  pathName: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: pathName,
        method: options.method ?? "GET",
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            headers: res.headers,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Reads server-sent events until `until` says enough; returns them. */
function readEvents(
  port: number,
  pathName: string,
  headers: Record<string, string>,
  until: (events: { id: string; event: string; data: string }[]) => boolean,
): Promise<{ id: string; event: string; data: string }[]> {
  return new Promise((resolve, reject) => {
    const events: { id: string; event: string; data: string }[] = [];
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: pathName,
        headers: { host: `127.0.0.1:${port}`, ...headers },
      },
      (res) => {
        let buffer = "";
        res.on("data", (chunk: Buffer) => {
          buffer += chunk.toString("utf8");
          let end = buffer.indexOf("\n\n");
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const fields = Object.fromEntries(
              block
                .split("\n")
                .filter((line) => !line.startsWith(":") && line.includes(": "))
                .map((line) => [
                  line.slice(0, line.indexOf(": ")),
                  line.slice(line.indexOf(": ") + 2),
                ]),
            );
            if (fields.event !== undefined)
              events.push({ id: fields.id ?? "", event: fields.event, data: fields.data ?? "" });
            end = buffer.indexOf("\n\n");
          }
          if (until(events)) {
            req.destroy();
            resolve(events);
          }
        });
      },
    );
    req.on("error", (error) => (error.message.includes("aborted") ? undefined : reject(error)));
    req.end();
  });
}

describe("conductor ui's server", () => {
  let repo: ReviewRepo;
  let page: Awaited<ReturnType<typeof startPage>>;
  let runId: string;

  beforeAll(async () => {
    repo = await reviewRepo([
      { id: "alpha", agent: 'printf "one\\ntwo\\nthree\\n" > alpha.txt' },
      { id: "beta" },
    ]);
    await runAll(repo);
    runId = repo.runIds()[0] as string;
    page = await startPage({ root: repo.root, home: repo.home, runId });
  });

  afterAll(async () => {
    await page?.close();
    await repo?.remove();
  });

  it("sends the address without the slash after the token to the page's own", async () => {
    const moved = await call(page.port, `/${page.token}?run=${runId}`);
    expect(moved.status).toBe(308);
    expect(moved.headers.location).toBe(`/${page.token}/?run=${runId}`);
    expect((await call(page.port, moved.headers.location as string)).body).toContain("<html");
  });

  it("refuses a request without the token, with another Host, or from another origin", async () => {
    expect((await call(page.port, "/api/state")).status).toBe(404);
    expect((await call(page.port, "/wrong-token/api/state")).status).toBe(404);
    const rebinding = await call(page.port, `/${page.token}/api/state`, {
      headers: { host: `attacker.example:${page.port}` },
    });
    expect(rebinding.status).toBe(421);
    const crossSite = await call(page.port, `/${page.token}/api/workspaces/alpha/actions/archive`, {
      method: "POST",
      headers: { origin: "http://attacker.example", "content-type": "application/json" },
      body: "{}",
    });
    expect(crossSite.status).toBe(403);
    // Refused before anything ran: the workspace is still there.
    const state = JSON.parse((await call(page.port, `/${page.token}/api/state`)).body);
    expect(state.workspaces.find((row: { name: string }) => row.name === "alpha").archived).toBe(
      false,
    );
    // The event stream needs the token too.
    expect((await call(page.port, "/api/events")).status).toBe(404);
  });

  it("serves the page, its assets and diff2html from the package, with a strict CSP", async () => {
    const index = await call(page.port, `/${page.token}/`);
    expect(index.status).toBe(200);
    expect(index.body).toContain('<script type="module" src="assets/app.js">');
    expect(String(index.headers["content-security-policy"])).toContain("default-src 'none'");
    expect((await call(page.port, `/${page.token}/assets/app.js`)).headers["content-type"]).toMatch(
      /javascript/,
    );
    const vendor = await call(page.port, `/${page.token}/vendor/diff2html-ui.min.js`);
    expect(vendor.status).toBe(200);
    expect(vendor.body).toContain("Diff2HtmlUI");
    expect((await call(page.port, `/${page.token}/assets/../../package.json`)).status).toBe(404);
  });

  it("answers the state, diff, timeline and logs of a finished run", async () => {
    const state = JSON.parse((await call(page.port, `/${page.token}/api/state`)).body);
    expect(state.run.runId).toBe(runId);
    expect(
      state.workspaces.map((row: { name: string; status: string }) => [row.name, row.status]),
    ).toEqual([
      ["alpha", "succeeded"],
      ["beta", "succeeded"],
    ]);
    const diff = JSON.parse(
      (await call(page.port, `/${page.token}/api/workspaces/alpha/diff`)).body,
    );
    expect(diff.files).toEqual([{ path: "alpha.txt", added: 3, removed: 0, binary: false }]);
    expect(diff.patch).toContain("+three");
    const timeline = JSON.parse(
      (await call(page.port, `/${page.token}/api/workspaces/beta/timeline`)).body,
    );
    expect(timeline.entries.map((entry: { text: string }) => entry.text)).toContain("succeeded");
    const logs = JSON.parse(
      (await call(page.port, `/${page.token}/api/workspaces/beta/logs?step=agent`)).body,
    );
    expect(logs.slice.text).toContain("wrote beta.txt");
    expect((await call(page.port, `/${page.token}/api/workspaces/nope/diff`)).status).toBe(404);
    expect(
      (await call(page.port, `/${page.token}/api/workspaces/beta/logs?step=nope`)).status,
    ).toBe(409);
  });

  it("streams the state once, then updates; a reconnect with Last-Event-ID gets only what it missed", async () => {
    const first = await readEvents(
      page.port,
      `/${page.token}/api/events`,
      {},
      (events) => events.length >= 1,
    );
    expect(first[0]?.event).toBe("state");
    const lastId = first[0]?.id as string;
    // Dirty the worktree, then archive from the page: refused with the CLI's own lines, nothing changes.
    writeFileSync(path.join(repo.worktree("beta"), "notes.txt"), "unsaved\n");
    const refused = JSON.parse(
      (
        await call(page.port, `/${page.token}/api/workspaces/beta/actions/archive`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: `http://127.0.0.1:${page.port}` },
          body: "{}",
        })
      ).body,
    );
    expect(refused.ok).toBe(false);
    expect(refused.command).toContain(`archive --run ${runId} -- beta`);
    expect(refused.output).toContain("conductor: archiving would lose work; nothing was removed:");
    expect(refused.output).toContain("1 uncommitted file: notes.txt");
    const forced = JSON.parse(
      (
        await call(page.port, `/${page.token}/api/workspaces/beta/actions/archive`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ force: true }),
        })
      ).body,
    );
    expect(forced.ok, forced.output).toBe(true);
    expect(forced.output).toContain("archived beta");
    const resumed = await readEvents(
      page.port,
      `/${page.token}/api/events`,
      { "last-event-id": lastId },
      (events) =>
        events.some(
          (event) => event.event === "update" && JSON.parse(event.data).row?.archived === true,
        ),
    );
    expect(resumed.every((event) => event.event === "update")).toBe(true);
    expect(Number(resumed.at(-1)?.id)).toBeGreaterThan(Number(lastId));
  });

  it("redacts what it sends of a run: a secret written into a log or the final message after the run is not shown", async () => {
    const secret = "sk-page-redacted-4c8e2a6f1d";
    const dir = path.join(repo.runDir(runId), "workspaces", "alpha");
    // Files in the repository: a later agent could write into them, escaped in JSON too.
    appendFileSync(
      path.join(dir, "agent.log"),
      `raw ${secret}\n{"text":"${secret.replace(/-/g, "\\u002d")}"}\n`,
    );
    writeFileSync(path.join(dir, "final.md"), `done, the key is ${secret}\n`);
    const before = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = secret;
    try {
      const logs = (await call(page.port, `/${page.token}/api/workspaces/alpha/logs?step=agent`))
        .body;
      expect(JSON.parse(logs).slice.text).toContain("raw [redacted]");
      expect(logs).not.toContain(secret);
      expect(logs).not.toContain("sk\\u002dpage");
      const timeline = (await call(page.port, `/${page.token}/api/workspaces/alpha/timeline`)).body;
      expect(JSON.parse(timeline).finalMessage).toContain("the key is [redacted]");
      expect(timeline).not.toContain(secret);
      // A line longer than the slice, cut inside the secret at the slice's start and at the
      // log's end (the agent still printing): no piece of it is shown.
      const after = `${"y".repeat(64 * 1024 - 20)}${secret.slice(0, 12)}`;
      appendFileSync(path.join(dir, "check.log"), `${"x".repeat(100)}${secret}${after}`);
      const cut = JSON.parse(
        (await call(page.port, `/${page.token}/api/workspaces/alpha/logs?step=check`)).body,
      ).slice;
      expect(cut.text.startsWith(`[redacted]${"y".repeat(100)}`)).toBe(true);
      expect(cut.text.endsWith("y[redacted]")).toBe(true);
      expect(cut.text).not.toContain(secret.slice(-6));
      expect(cut.text).not.toContain(secret.slice(0, 6));
      // An error that quotes what it was given (here a workspace name) is redacted too.
      const refused = await call(page.port, `/${page.token}/api/workspaces/${secret}/diff`);
      expect(refused.status).toBe(404);
      expect(refused.body).toContain("[redacted]");
      expect(refused.body).not.toContain(secret);
    } finally {
      if (before === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = before;
    }
  });
});
