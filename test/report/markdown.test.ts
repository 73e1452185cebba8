import path from "node:path";
import { describe, expect, it } from "vitest";
import type { RunState } from "../../src/executor/types.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import {
  FIX_BUG_LOG,
  foldRun,
  makePlan,
  mixedRun,
  runEvents,
  SECRET,
  workspaceEvents,
} from "./fixtures.js";

/** Splits a GFM table row into cells the way GitHub does: on pipes not escaped by a backslash. */
function cells(row: string): string[] {
  return row
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

function tableRows(markdown: string): string[][] {
  return markdown
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .map(cells);
}

function withFinalMessage(state: RunState, name: string, finalMessage: string): RunState {
  const workspace = state.workspaces[name];
  if (workspace === undefined) throw new Error(`no ${name}`);
  return {
    ...state,
    workspaces: {
      ...state.workspaces,
      [name]: { ...workspace, agent: { ...workspace.agent, finalMessage } },
    },
  };
}

describe("Markdown report", () => {
  it("opens with the run's outcome and a table row per workspace", () => {
    const state = mixedRun();
    const markdown = renderMarkdown(state);
    const lines = markdown.split("\n");
    expect(lines[0]).toBe("## ⏹️ conductor run `20260101-100000-abcd`: interrupted");
    expect(lines[2]).toBe(
      `4 succeeded · 2 failed · 1 interrupted — 18.3k tokens — 15.0s — plan \`${state.plan.hash.slice(0, 12)}\` — base \`main\` (\`0123456789\`)`,
    );
    const [header, separator, ...rows] = tableRows(markdown);
    expect(header).toEqual([
      "Workspace",
      "Status",
      "Duration",
      "Tokens",
      "Files (+/−)",
      "Check",
      "Branch",
    ]);
    expect(separator).toHaveLength(7);
    expect(rows.map((row) => row[0])).toEqual(makePlan().workspaces.map((w) => w.name));
    expect(rows[0]).toEqual([
      "add-auth",
      "✅ succeeded",
      "7.0s",
      "12.3k",
      "2 (+10 −3)",
      "passed",
      "`conductor/add-auth`",
    ]);
    expect(rows[1]).toEqual([
      "fix-bug",
      "❌ failed",
      "7.0s",
      "1.2k",
      "2 (+10 −3)",
      "failed",
      "`conductor/fix-bug-1`",
    ]);
    expect(rows[2]).toEqual([
      "fix-bug-2",
      "⏹️ interrupted",
      "4.5s",
      "-",
      "-",
      "-",
      "`conductor/fix-bug-2`",
    ]);
    expect(rows[3]?.[5]).toBe("none");
  });

  it("shows each workspace's failure, diff stat and final agent message in a collapsible block", () => {
    const markdown = renderMarkdown(mixedRun());
    const section = markdown.slice(
      markdown.indexOf("### ❌ fix-bug\n"),
      markdown.indexOf("### ⏹️ fix-bug-2"),
    );
    expect(section).toBe(
      [
        "### ❌ fix-bug",
        "",
        // Where the log is in the repository: an absolute path names nothing in CI.
        `**check failed (exit 1)** — log: \`${path.relative("/repo/webapp", FIX_BUG_LOG)}\``,
        // Separate paragraphs: Markdown would join adjacent lines into one.
        "",
        "2 files changed, 10 insertions(+), 3 deletions(-) — commit `c0ffee0000`",
        "",
        "<details><summary>Final agent message</summary>",
        "",
        "Done with fix-bug.",
        "",
        "</details>",
        "",
        "",
      ].join("\n"),
    );
    expect(markdown).toContain("### ✅ lint\n\n1 file changed, 1 insertion(+), 1 deletion(-)");
    expect(markdown).toContain(
      "### ❌ refactor-model-o4-mini\n\n**agent error: unexpected status 401 Unauthorized**\n",
    );
  });

  it("shows the last lines of a failed step's log, in a fence its own backticks cannot close", () => {
    const log = [
      ...Array.from({ length: 40 }, (_, index) => `line ${index + 1}`),
      "```",
      "\u001b[31mred\u001b[39m and a bell\u0007",
    ].join("\n");
    const asked: string[] = [];
    const markdown = renderMarkdown(mixedRun(), {
      readLogTail: (workspace, step) => {
        asked.push(`${workspace}/${step}`);
        return workspace === "fix-bug" ? `${log}\n` : undefined;
      },
    });
    // Only failures with a log are looked up: fix-bug's check (fix-bug-2 was cancelled).
    expect(asked).toEqual(["fix-bug/check"]);
    const section = markdown.slice(markdown.indexOf("### ❌ fix-bug\n"));
    expect(section).toContain(
      [
        "<details open><summary>Last 30 lines of the check log</summary>",
        "",
        "````text",
        "line 13",
      ].join("\n"),
    );
    expect(section).toContain(
      ["line 40", "```", "red and a bell", "````", "", "</details>"].join("\n"),
    );
    expect(section).not.toMatch(/^line 12$/m);
  });

  it("escapes pipes in table cells", () => {
    const state = mixedRun();
    const planned = state.plan.workspaces.map((w) =>
      w.name === "lint" ? { ...w, branch: "conductor/a|b" } : w,
    );
    const markdown = renderMarkdown({ ...state, plan: { ...state.plan, workspaces: planned } });
    const lint = tableRows(markdown).find((row) => row[0] === "lint");
    expect(lint).toHaveLength(7);
    expect(lint?.[6]).toBe("`conductor/a\\|b`");
  });

  it("keeps an agent message from breaking out of its block", () => {
    const message = [
      "Done. </details> <details><summary>x</summary>",
      "```ts",
      "const unclosed = true;",
    ].join("\n");
    const markdown = renderMarkdown(withFinalMessage(mixedRun(), "lint", message));
    const start = markdown.indexOf("### ✅ lint");
    const block = markdown.slice(start, markdown.indexOf("\n### ", start + 1));
    expect(block).toContain("Done. &lt;/details> &lt;details>&lt;summary>x&lt;/summary>");
    // The dangling fence is closed before our </details>.
    expect(block).toContain("const unclosed = true;\n```\n\n</details>");
    expect(block.match(/<details>/g)).toHaveLength(1);
  });

  it("cuts very long agent messages", () => {
    const markdown = renderMarkdown(withFinalMessage(mixedRun(), "lint", "y".repeat(50_000)), {
      maxMessageChars: 1000,
    });
    expect(markdown).toContain(`${"y".repeat(1000)}\n\n*(49000 more characters cut)*`);
    expect(markdown).not.toContain("y".repeat(1001));
  });

  it("leaves out sections of workspaces that have nothing to say", () => {
    const plan = makePlan({ taskPatterns: ["lint", "fix-bug"] });
    const markdown = renderMarkdown(
      foldRun(plan, runEvents(plan, workspaceEvents("lint"), { status: "failed" })),
    );
    expect(markdown).toContain("### ✅ lint");
    expect(markdown).not.toContain("### 💤 fix-bug");
    expect(tableRows(markdown).find((row) => row[0] === "fix-bug")?.[1]).toBe("💤 pending");
  });

  it("never carries environment values", () => {
    const state = mixedRun();
    expect(JSON.stringify(state)).toContain(SECRET);
    expect(renderMarkdown(state)).not.toContain(SECRET);
  });
});
