// The review page (`conductor ui`) with 50 workspaces and 10,000 events, in headless Chromium
// (Debian's chromium, driven by playwright-core). Two figures, each against the floor a page of
// its kind costs in the same browser on the same machine:
// - time to first render: from navigation start to the frame that shows the 50 rows, against a
//   static page of 50 rows from a bare node:http server;
// - event-to-screen: from appending one event to events.jsonl to the changed row in the page's
//   DOM, against a bare server-sent-events round trip (a node:http server writes a message, the
//   page sets an attribute).
// Targets (issue 15): first render < 500 ms, event-to-screen < 200 ms.
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import {
  benchEnv,
  conductorCommand,
  createRepo,
  freshHome,
  interleave,
  log,
  removeDir,
  resultRow,
  tempDir,
  timedConductor,
  writeConfig,
} from "./lib.mjs";

const WORKSPACES = 50;
const EVENTS = 10_000;
const CHROMIUM = process.env.CONDUCTOR_CHROMIUM ?? "/usr/bin/chromium";

export async function run({ runs }) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
  }
  const { chromium } = await import("playwright-core");
  const base = tempDir("ui");
  const repo = path.join(base, "repo");
  createRepo(repo, { "README.md": "# ui\n" });
  const env = benchEnv(freshHome(base, "home"));
  const config = writeConfig(path.join(base, "config"), {
    version: 1,
    concurrency: 8,
    workspaces: { dir: path.join(base, "ws") },
    agent: { kind: "command", command: 'echo "$CONDUCTOR_TASK_ID" > "$CONDUCTOR_TASK_ID.txt"' },
    tasks: Array.from({ length: WORKSPACES }, (_, i) => ({
      id: `ws-${String(i + 1).padStart(2, "0")}`,
      prompt: "write a file",
    })),
  });
  log(`ui: running ${WORKSPACES} workspaces`);
  await timedConductor(["-c", config, "run", "--output", "plain"], {
    cwd: repo,
    env,
    outFile: path.join(base, "run.out"),
  });
  const runId = readdirSync(path.join(repo, ".conductor", "runs"))[0];
  const eventsFile = path.join(repo, ".conductor", "runs", runId, "events.jsonl");
  // Agents chatter: fill the log up to 10,000 events with agent activity, as a long run has.
  const recorded = readFileSync(eventsFile, "utf8").split("\n").filter(Boolean).length;
  const names = Array.from(
    { length: WORKSPACES },
    (_, i) => `ws-${String(i + 1).padStart(2, "0")}`,
  );
  let lines = "";
  for (let i = recorded; i < EVENTS; i++) {
    const activity =
      i % 3 === 0
        ? { kind: "command", command: `npm test -- --shard ${i}`, exitCode: 0 }
        : i % 3 === 1
          ? { kind: "reasoning", text: `Looking at module ${i} before changing it.` }
          : { kind: "file-change", paths: [`src/module-${i}.ts`] };
    lines += `${JSON.stringify({ time: new Date().toISOString(), runId, type: "agent.activity", workspace: names[i % WORKSPACES], activity })}\n`;
  }
  appendFileSync(eventsFile, lines);

  const [file, ...before] = conductorCommand();
  const ui = spawn(file, [...before, "-c", config, "ui", "--run", runId], {
    cwd: repo,
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    ui.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /at (http:\/\/127\.0\.0\.1:\d+\/[\w-]+\/)/.exec(out);
      if (match) resolve(match[1]);
    });
    ui.once("exit", (code) => reject(new Error(`conductor ui exited ${code}`)));
  });
  const floor = await floorServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // Warm-up (not measured): the browser's first page pays for its own start.
    const warm = await context.newPage();
    await warm.goto(url);
    await warm.waitForSelector('body[data-ready="1"]');
    await warm.close();

    const firstRender = await interleave(runs, {
      conductor: {
        measure: async () => {
          const page = await context.newPage();
          await page.goto(url);
          await page.waitForFunction(() => window.conductorTimings?.firstRender !== undefined);
          const rows = await page.locator('[role="option"]').count();
          if (rows !== WORKSPACES) throw new Error(`expected ${WORKSPACES} rows, saw ${rows}`);
          const ms = await page.evaluate(() => window.conductorTimings.firstRender);
          await page.close();
          return ms;
        },
      },
      baseline: {
        measure: async () => {
          const page = await context.newPage();
          await page.goto(`${floor.url}static`);
          await page.waitForFunction(() => window.rendered !== undefined);
          const ms = await page.evaluate(() => window.rendered);
          await page.close();
          return ms;
        },
      },
    });

    // One page each, kept open: every round changes a row and waits for the DOM to show it.
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]');
    await page.evaluate(() => {
      window.seen = {};
      new MutationObserver((records) => {
        for (const record of records) {
          const row = record.target;
          if (row.dataset?.step)
            window.seen[`${row.dataset.name}:${row.dataset.step}`] ??= Date.now();
        }
      }).observe(document.getElementById("workspaces"), {
        attributes: true,
        subtree: true,
        attributeFilter: ["data-step"],
      });
    });
    const floorPage = await context.newPage();
    await floorPage.goto(`${floor.url}events-page`);
    await floorPage.waitForFunction(() => window.connected === true);
    const steps = ["check", "commit"];
    const eventToScreen = await interleave(runs, {
      conductor: {
        measure: async (round) => {
          const name = names[(round * 7) % WORKSPACES];
          const step = steps[round % 2] === "check" ? "setup" : "check";
          const key = `${name}:${step}`;
          const sent = Date.now();
          appendFileSync(
            eventsFile,
            `${JSON.stringify({ time: new Date().toISOString(), runId, type: "step.started", workspace: name, step })}\n`,
          );
          await page.waitForFunction((k) => window.seen[k] !== undefined, key, { polling: 10 });
          return (await page.evaluate((k) => window.seen[k], key)) - sent;
        },
      },
      baseline: {
        measure: async (round) => {
          const sent = Date.now();
          floor.send(round);
          await floorPage.waitForFunction((r) => window.received?.[r] !== undefined, round, {
            polling: 10,
          });
          return (await floorPage.evaluate((r) => window.received[r], round)) - sent;
        },
      },
    });
    return [
      resultRow({
        id: "ui-first-render",
        benchmark: `Review page: first render of ${WORKSPACES} workspaces, ${EVENTS} events`,
        unit: "ms",
        conductor: firstRender.conductor,
        baseline: firstRender.baseline,
        baselineLabel: `static page of ${WORKSPACES} rows`,
        target: { on: "conductor", max: 500, below: true, text: "< 500 ms" },
        notes: ["navigation start to the frame after the rows are in the DOM (performance.now())"],
      }),
      resultRow({
        id: "ui-event-to-screen",
        benchmark: "Review page: an event appended to events.jsonl, to its row on screen",
        unit: "ms",
        conductor: eventToScreen.conductor,
        baseline: eventToScreen.baseline,
        baselineLabel: "bare server-sent event round trip",
        target: { on: "conductor", max: 200, below: true, text: "< 200 ms" },
        notes: [`log of ${EVENTS} events; the row's data-step changes in the DOM`],
      }),
    ];
  } finally {
    await browser.close();
    floor.close();
    ui.kill("SIGINT");
    await new Promise((resolve) => ui.once("exit", resolve));
    removeDir(base);
  }
}

/** The floor: a static 50-row page and a bare SSE round trip, served by plain node:http. */
async function floorServer() {
  const rows = Array.from(
    { length: WORKSPACES },
    (_, i) => `<div role="option" class="ws">ws-${i + 1} <span>succeeded</span></div>`,
  ).join("");
  const staticPage = `<!doctype html><html><body><div id="workspaces">${rows}</div><script>requestAnimationFrame(() => { window.rendered = performance.now(); });</script></body></html>`;
  const eventsPage = `<!doctype html><html><body><div id="row"></div><script>
    window.received = {};
    const stream = new EventSource("events");
    stream.onopen = () => { window.connected = true; };
    stream.addEventListener("update", (event) => {
      document.getElementById("row").dataset.step = event.data;
      window.received[event.data] = Date.now();
    });
  </script></body></html>`;
  const clients = new Set();
  const server = createServer((request, response) => {
    if (request.url === "/events") {
      response.writeHead(200, { "Content-Type": "text/event-stream" });
      response.write("retry: 1000\n\n");
      clients.add(response);
      request.on("close", () => clients.delete(response));
      return;
    }
    response.writeHead(200, { "Content-Type": "text/html" });
    response.end(request.url === "/static" ? staticPage : eventsPage);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    send(round) {
      for (const client of clients) client.write(`event: update\ndata: ${round}\n\n`);
    },
    close() {
      for (const client of clients) client.end();
      server.close();
    },
  };
}
