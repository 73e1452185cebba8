import { appendFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo, runAll, waitFor } from "../review/rig.js";
import { startPage } from "./page-server.js";

/** An open event stream of the page's server: the messages so far, until closed. */
function openStream(port: number, pathName: string): { messages: string[]; close(): void } {
  const messages: string[] = [];
  let buffer = "";
  const req = request(
    { host: "127.0.0.1", port, path: pathName, headers: { host: `127.0.0.1:${port}` } },
    (res) => {
      res.on("data", (chunk: Buffer) => {
        buffer += chunk.toString("utf8");
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          messages.push(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
      });
    },
  );
  req.on("error", () => {});
  req.end();
  return { messages, close: () => req.destroy() };
}

describe("conductor ui's event stream", () => {
  let repo: ReviewRepo;
  let page: Awaited<ReturnType<typeof startPage>>;
  let runId: string;

  beforeAll(async () => {
    repo = await reviewRepo([{ id: "alpha" }], { workspaces: { copy: [".env.local"] } });
    await repo.write({ ".env.local": "API_URL=http://localhost:3000\n" });
    await runAll(repo);
    runId = repo.runIds()[0] as string;
    page = await startPage({ root: repo.root, home: repo.home, runId });
  });

  afterAll(async () => {
    await page?.close();
    await repo?.remove();
  });

  it("redacts a secret the run learned after the stream opened, in the messages sent after", async () => {
    const stream = openStream(page.port, `/${page.token}/api/events`);
    try {
      await waitFor("the page state", () =>
        stream.messages.some((m) => m.includes("event: state")),
      );
      // The copied env file gains a credential while the page is open (the user adds a key, a
      // resumed run copies the file again), then a script prints it.
      const secret = "sk-late-stream-5e1b9c7d3a";
      writeFileSync(path.join(repo.root, ".env.local"), `API_TOKEN=${secret}\n`);
      const event = {
        time: new Date().toISOString(),
        runId,
        type: "step.output",
        workspace: "alpha",
        step: "check",
        line: `token is ${secret}`,
      };
      appendFileSync(path.join(repo.runDir(runId), "events.jsonl"), `${JSON.stringify(event)}\n`);
      await waitFor("the update of the printed line", () =>
        stream.messages.some((m) => m.includes("check: token is")),
      );
      const update = stream.messages.find((m) => m.includes("check: token is")) as string;
      expect(update).toContain("check: token is [redacted]");
      expect(stream.messages.join("\n")).not.toContain(secret);
    } finally {
      stream.close();
    }
  });
});
