/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { appendFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo, runAll, waitFor } from "../review/rig.js";
import { startPage } from "../ui/page-server.js";
import { launchChromium, newPage, screenshot } from "./chromium.js";

/**
 * The review page in real headless Chromium against real runs (command agents in real git
 * repositories). Few, focused tests: each one costs a browser page on a 2-core machine.
 */
describe("conductor ui in Chromium", () => {
  let browser: Browser;
  let repo: ReviewRepo;
  let page: Awaited<ReturnType<typeof startPage>>;

  beforeAll(async () => {
    browser = await launchChromium();
    repo = await reviewRepo(
      [
        {
          id: "add-docs",
          agent:
            'printf "# Docs\\n\\nFirst line.\\nSecond line.\\n" > docs.md; echo "wrote docs.md"',
        },
        {
          id: "fix-math",
          // Follow-ups (`continue`) append their instructions to notes.md: a new commit each time.
          agent:
            'printf "def add(a, b):\\n    return a + b\\n" > math.py; cat "$CONDUCTOR_PROMPT_FILE" >> notes.md; echo >> notes.md; echo done',
        },
        { id: "tidy", agent: "echo tidy > tidy.txt" },
      ],
      { scripts: { check: 'test -n "$(ls)"' } },
    );
    await runAll(repo);
    page = await startPage({ root: repo.root, home: repo.home, runId: repo.runIds()[0] as string });
  });

  afterAll(async () => {
    await page?.close();
    await browser?.close();
    await repo?.remove();
  });

  it("loads the page of a finished run: every workspace with its status and check", async () => {
    const { page: tab, problems } = await newPage(browser);
    await tab.goto(page.url);
    await tab.waitForSelector('body[data-ready="1"]');
    const rows = tab.locator('[role="option"]');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
    expect(
      await rows.evaluateAll((elements) =>
        elements.map((element) => [
          (element as HTMLElement).dataset.name,
          (element as HTMLElement).dataset.status,
        ]),
      ),
    ).toEqual([
      ["add-docs", "succeeded"],
      ["fix-math", "succeeded"],
      ["tidy", "succeeded"],
    ]);
    expect(await tab.locator("#ws-add-docs .check").textContent()).toBe("check passed");
    expect(await tab.locator("#run-status").textContent()).toBe("succeeded");
    await screenshot(tab, "ui-overview");
    // Dark theme follows the system setting.
    const { page: dark } = await newPage(browser, "dark");
    await dark.goto(page.url);
    await dark.waitForSelector('body[data-ready="1"]');
    const background = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe("rgb(13, 17, 23)");
    await screenshot(dark, "ui-dark");
    await dark.context().close();
    expect(problems).toEqual([]);
    await tab.context().close();
  });

  it("shows the selected workspace's diff with its file names and line counts (j/k and d move there)", async () => {
    // A review of fix-math (as `conductor review` records it): its finding sits under its line.
    writeFileSync(
      path.join(repo.runDir(), "workspaces", "fix-math", "review.json"),
      JSON.stringify({
        formatVersion: 1,
        status: "completed",
        verdict: "incorrect",
        explanation: "add() ignores floats.",
        findings: [
          {
            priority: 1,
            title: "Handle floats",
            body: "add(0.1, 0.2) is not 0.3.",
            file: "math.py",
            lines: { start: 2, end: 2 },
          },
        ],
        counts: [0, 1, 0, 0],
      }),
    );
    const { page: tab, problems } = await newPage(browser);
    await tab.goto(page.url);
    await tab.waitForSelector('body[data-ready="1"]');
    await tab.locator("#workspaces").focus();
    await tab.keyboard.press("j");
    await tab.keyboard.press("d");
    await expect
      .poll(() => tab.locator("#ws-name").textContent(), { timeout: 10_000 })
      .toBe("fix-math");
    expect(await tab.locator("#ws-fix-math").getAttribute("aria-selected")).toBe("true");
    const files = tab.locator("#files tbody tr");
    await expect.poll(() => files.count(), { timeout: 10_000 }).toBe(2);
    expect(
      await files.evaluateAll((trs) =>
        trs.map((tr) => [...tr.children].map((td) => td.textContent)),
      ),
    ).toEqual([
      ["math.py", "+2", "−0"],
      ["notes.md", "+3", "−0"],
    ]);
    // diff2html drew both files.
    await expect
      .poll(() => tab.locator(".d2h-file-name").allTextContents(), { timeout: 10_000 })
      .toEqual(["math.py", "notes.md"]);
    const note = tab.locator("#diff .finding-note");
    await expect
      .poll(() => note.textContent(), { timeout: 10_000 })
      .toBe("[P1] Handle floats: add(0.1, 0.2) is not 0.3.");
    // Right under line 2 of math.py, the line it names.
    expect(
      await note.evaluate((row) =>
        row.previousElementSibling?.querySelector(".line-num2")?.textContent?.trim(),
      ),
    ).toBe("2");
    await expect
      .poll(() => tab.locator("#ws-fix-math .review").textContent(), { timeout: 10_000 })
      .toBe("review: incorrect (1×P1)");
    await screenshot(tab, "ui-diff");
    // l shows the logs, the agent's by default.
    await tab.keyboard.press("l");
    await expect
      .poll(() => tab.locator("#log").textContent(), { timeout: 10_000 })
      .toContain("done");
    await screenshot(tab, "ui-logs");
    expect(problems).toEqual([]);
    await tab.context().close();
  });

  it("continue from the page makes a new commit that shows in the diff", async () => {
    const { page: tab, problems } = await newPage(browser);
    await tab.goto(page.url);
    await tab.waitForSelector('body[data-ready="1"]');
    await tab.locator("#ws-fix-math").click();
    const before = await repo.git("rev-parse", "refs/heads/conductor/fix-math");
    await tab.locator("#tab-actions").click();
    await tab.locator("#continue-text").fill("Also handle negative numbers");
    await tab.locator("#continue").click();
    await expect
      .poll(() => tab.locator("#action-output").textContent(), { timeout: 60_000 })
      .toContain("fix-math succeeded");
    const after = await repo.git("rev-parse", "refs/heads/conductor/fix-math");
    expect(after).not.toBe(before);
    // The diff now holds the new commit: notes.md grew by the instructions' line (3 → 4).
    await tab.keyboard.press("d");
    await expect
      .poll(
        () => tab.locator("#files tbody tr").evaluateAll((trs) => trs.map((tr) => tr.textContent)),
        { timeout: 10_000 },
      )
      .toContain("notes.md+4−0");
    await expect
      .poll(() => tab.locator(".d2h-code-line-ctn").allTextContents(), { timeout: 10_000 })
      .toContain("Also handle negative numbers");
    expect(problems).toEqual([]);
    await tab.context().close();
  });

  it("archive of a dirty workspace shows the refusal, then archives with force", async () => {
    writeFileSync(path.join(repo.worktree("tidy"), "scratch.txt"), "not committed\n");
    const { page: tab, problems } = await newPage(browser);
    await tab.goto(page.url);
    await tab.waitForSelector('body[data-ready="1"]');
    await tab.locator("#ws-tidy").click();
    await tab.locator("#tab-actions").click();
    expect(await tab.locator("#archive-force").isDisabled()).toBe(true);
    await tab.locator("#archive").click();
    const output = tab.locator("#action-output");
    await expect
      .poll(() => output.textContent(), { timeout: 30_000 })
      .toContain("conductor: archiving would lose work; nothing was removed:");
    expect(await output.textContent()).toContain("1 uncommitted file: scratch.txt");
    expect(await output.getAttribute("class")).toContain("error");
    await screenshot(tab, "ui-archive-refused");
    // Force only after the refusal, and after a confirmation.
    await tab.locator("#archive-force").check();
    tab.once("dialog", (dialog) => void dialog.accept());
    await tab.locator("#archive").click();
    await expect.poll(() => output.textContent(), { timeout: 30_000 }).toContain("archived tidy");
    await expect
      .poll(() => tab.locator("#ws-tidy .status").textContent(), { timeout: 10_000 })
      .toBe("archived");
    expect(await repo.git("worktree", "list")).not.toContain(repo.worktree("tidy"));
    expect(problems).toEqual([]);
    await tab.context().close();
  });
  it("shows what a forged line of the run's record holds as text, never as HTML", async () => {
    // The run's folder is in the repository, where an agent can write: a commit result whose
    // counts are markup instead of numbers.
    const runId = repo.runIds()[0] as string;
    appendFileSync(
      path.join(repo.runDir(runId), "events.jsonl"),
      `${JSON.stringify({
        type: "step.finished",
        workspace: "add-docs",
        step: "commit",
        status: "succeeded",
        durationMs: 1,
        result: {
          step: "commit",
          created: true,
          diff: {
            files: 1,
            insertions: '<a id="injected" href="https://attacker.example/">x</a>',
            deletions: 0,
          },
        },
        time: new Date().toISOString(),
        runId,
      })}\n`,
    );
    const { page: tab, problems } = await newPage(browser);
    await tab.goto(page.url);
    await tab.waitForSelector('body[data-ready="1"]');
    await expect
      .poll(() => tab.locator("#ws-add-docs .diffstat").textContent(), { timeout: 10_000 })
      .toBe('+<a id="injected" href="https://attacker.example/">x</a> −0');
    expect(await tab.locator("#injected").count()).toBe(0);
    expect(problems).toEqual([]);
    await tab.context().close();
  });
});

describe("conductor ui during a live run", () => {
  let browser: Browser;
  let repo: ReviewRepo;

  beforeAll(async () => {
    browser = await launchChromium();
    repo = await reviewRepo([
      { id: "slow", agent: "sleep 2; echo one > slow.txt; sleep 1; echo done" },
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await repo?.remove();
  });

  it("a workspace's row goes from running to succeeded without a reload", async () => {
    const run = repo.start(["run", "--output", "plain"]);
    await waitFor("the run to start", () => repo.runIds().length === 1);
    const page = await startPage({
      root: repo.root,
      home: repo.home,
      runId: repo.runIds()[0] as string,
    });
    try {
      const { page: tab, problems } = await newPage(browser);
      await tab.goto(page.url);
      await tab.evaluate(() => {
        (window as unknown as { marker: string }).marker = "same page";
      });
      await tab.waitForSelector('#ws-slow[data-status="running"]', { timeout: 30_000 });
      await tab.waitForSelector('#ws-slow[data-status="succeeded"]', { timeout: 60_000 });
      expect(await tab.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe(
        "same page",
      );
      await expect
        .poll(() => tab.locator("#run-status").textContent(), { timeout: 10_000 })
        .toBe("succeeded");
      expect((await run).exitCode).toBe(0);
      expect(problems).toEqual([]);
      await tab.context().close();
    } finally {
      await page.close();
    }
  });
});
