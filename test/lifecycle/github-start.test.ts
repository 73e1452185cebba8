// Tasks from GitHub: `issue:` (the prompt from gh issue view), `tasks_from.github_issues`,
// `conductor import issues|prs`, and what `conductor pr` does with them. The real CLI in real
// repositories, a local bare origin, the scripted gh stand-in, the command agent.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { Plan } from "../../src/planner/types.js";
import { conductor } from "../helpers/cli.js";
import {
  authStatus,
  type GhRule,
  type GhStandIn,
  installGh,
  issue,
  issueComment,
  issueList,
  issueView,
  PR_FIELDS,
  prCreate,
  prList,
  prView,
} from "../helpers/gh-stand-in.js";
import { createTestRepo, gitEnv, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo;
let origin: string;

const AGENT = {
  kind: "command",
  // Shell builtins only: the stand-in's PATH holds node, git, sh and gh.
  command: 'printf "%s" "$CONDUCTOR_PROMPT" > prompt.txt',
};

const BUG = issue(12, "Fix date parsing", {
  body: "Dates like 2024-02-30 are accepted.",
  comments: [issueComment("alice", "Also reject 2023-13-01.")],
});

async function writeConfig(extra: Record<string, unknown>): Promise<void> {
  const config = {
    version: 1,
    workspaces: { dir: path.join(repo.home, "workspaces") },
    agent: AGENT,
    ...extra,
  };
  await repo.write({ "conductor.yaml": stringify(config) });
  await repo.commitAll("conductor.yaml");
}

async function gh(rules: GhRule[]): Promise<GhStandIn> {
  return installGh(path.join(path.dirname(repo.root), "gh"), {
    rules: [authStatus(true), ...rules],
  });
}

const run = (args: string[], stand: GhStandIn | undefined, pathOverride?: string) =>
  conductor(args, {
    cwd: repo.root,
    home: repo.home,
    env: { PATH: pathOverride ?? stand?.path ?? process.env.PATH ?? "" },
  });

beforeEach(async () => {
  repo = await createTestRepo();
  origin = path.join(path.dirname(repo.root), "origin.git");
  await execa("git", ["init", "-q", "--bare", origin], { env: gitEnv(repo.home) });
  await repo.git("remote", "add", "origin", origin);
  await repo.git("push", "-q", "origin", "main");
});

afterEach(async () => {
  await repo.remove();
});

describe("a task from a GitHub issue", () => {
  it("takes its prompt from the issue's title, body and comments, with its own prompt appended", async () => {
    await writeConfig({
      tasks: [{ id: "dates", issue: 12, prompt: "Keep the public API unchanged." }],
    });
    const stand = await gh([issueView(12, BUG)]);
    const result = await run(["run", "--output", "plain"], stand);
    expect(result.exitCode, result.all).toBe(0);
    expect(await stand.unmatched()).toEqual([]);
    const plan = JSON.parse((await run(["plan", "--json"], stand)).stdout) as Plan;
    const workspace = plan.workspaces[0] as Plan["workspaces"][number];
    expect(workspace.issue).toBe(12);
    const prompt = await readFile(path.join(workspace.path, "prompt.txt"), "utf8");
    expect(prompt).toBe(
      [
        "# Fix date parsing (issue #12)",
        "",
        "Dates like 2024-02-30 are accepted.",
        "",
        "## Comments",
        "",
        "**alice:**",
        "",
        "Also reject 2023-13-01.",
        "",
        "## Further instructions",
        "",
        "Keep the public API unchanged.",
        "",
      ].join("\n"),
    );
    const call = (await stand.calls()).find((entry) => entry.args[0] === "issue");
    expect(call?.args).toEqual([
      "issue",
      "view",
      "12",
      "--json",
      "number,title,body,comments,updatedAt",
    ]);
  });

  it("the plan hash changes when the issue is edited", async () => {
    await writeConfig({ tasks: [{ id: "dates", issue: 12 }] });
    const stand = await gh([issueView(12, BUG)]);
    const hashOf = async () =>
      (JSON.parse((await run(["plan", "--json"], stand)).stdout) as Plan).hash;
    const before = await hashOf();
    expect(await hashOf()).toBe(before);
    await stand.setScenario({
      rules: [authStatus(true), issueView(12, { ...BUG, updatedAt: "2026-12-04T10:00:00Z" })],
    });
    expect(await hashOf()).not.toBe(before);
  });

  it("without gh, or logged out, fails at plan time with exit 2 and the remedy, creating nothing", async () => {
    await writeConfig({
      tasks: [
        { id: "dates", issue: 12 },
        { id: "offline", prompt: "p" },
      ],
    });
    const missing = await installGh(path.join(path.dirname(repo.root), "no-gh"), undefined);
    const result = await run(["run"], missing);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      "conductor: tasks[0].issue (#12) needs the GitHub CLI (gh), which is not installed. " +
        "Install it (apt-get install gh, or https://cli.github.com), then run `gh auth login`.",
    );
    const loggedOut = await installGh(path.join(path.dirname(repo.root), "gh-out"), {
      rules: [authStatus(false)],
    });
    const again = await run(["plan"], loggedOut);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain("which is not logged in. Run `gh auth login`, then try again.");
    expect(existsSync(path.join(repo.root, ".conductor", "runs"))).toBe(false);
    expect(existsSync(path.join(repo.home, "workspaces"))).toBe(false);
    // What needs no GitHub still works offline.
    await writeConfig({ tasks: [{ id: "offline", prompt: "p" }] });
    expect((await run(["plan"], missing)).exitCode).toBe(0);
  });

  it("an issue gh cannot find is reported at its place in the file", async () => {
    await writeConfig({ tasks: [{ id: "ghost", issue: 99 }] });
    const stand = await gh([issueView(99, undefined)]);
    const result = await run(["plan"], stand);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(
      /conductor\.yaml:\d+:\d+: tasks\[0\]\.issue: issue #99 could not be read with gh \(GraphQL: Could not resolve/,
    );
  });

  it("conductor pr writes Closes #<n> into the pull request body", async () => {
    await writeConfig({ tasks: [{ id: "dates", issue: 12 }] });
    const stand = await gh([issueView(12, BUG), prView("conductor/dates", undefined), prCreate()]);
    expect((await run(["run", "--output", "plain"], stand)).exitCode).toBe(0);
    const result = await run(["pr", "dates"], stand);
    expect(result.exitCode, result.all).toBe(0);
    const create = (await stand.calls()).find((call) => call.args[1] === "create");
    expect(create?.body).toContain("\nCloses #12\n");
    expect(create?.args).toContain("Fix date parsing (issue #12)");
  });
});

describe("tasks_from.github_issues", () => {
  it("makes one task per listed issue at plan time, and the hash follows the issues", async () => {
    await writeConfig({ tasks_from: { github_issues: { label: "conductor", limit: 5 } } });
    const issues = [BUG, issue(14, "Add a --json flag!", { body: "Like `gh`." })];
    const stand = await gh([issueList(issues, { "--label": "conductor", "--limit": "5" })]);
    const result = await run(["plan", "--json"], stand);
    expect(result.exitCode, result.all).toBe(0);
    const plan = JSON.parse(result.stdout) as Plan;
    expect(plan.workspaces.map((workspace) => [workspace.name, workspace.issue])).toEqual([
      ["12-fix-date-parsing", 12],
      ["14-add-a-json-flag", 14],
    ]);
    expect(plan.workspaces[1]?.prompt).toBe("# Add a --json flag! (issue #14)\n\nLike `gh`.\n");
    await stand.setScenario({
      rules: [
        authStatus(true),
        issueList([BUG, { ...issues[1], updatedAt: "2026-12-04T11:00:00Z" }]),
      ],
    });
    const edited = JSON.parse((await run(["plan", "--json"], stand)).stdout) as Plan;
    expect(edited.hash).not.toBe(plan.hash);
    expect(await stand.unmatched()).toEqual([]);
  });
});

describe("conductor import", () => {
  it("import issues appends one task per issue, keeping the file's comments, and refuses duplicates", async () => {
    const original = [
      "# Our tasks. Keep this comment.",
      "version: 1",
      "agent:",
      "  kind: command",
      "  command: 'true'  # does nothing",
      "tasks:",
      "  - id: tidy   # by hand",
      "    prompt: Tidy up.",
      "",
    ].join("\n");
    await repo.write({ "conductor.yaml": original });
    const stand = await gh([
      issueList([BUG, issue(14, "Add a --json flag")], {
        "--label": "bug",
        "--assignee": "alice",
        "--limit": "2",
      }),
    ]);
    const args = ["import", "issues", "--label", "bug", "--assignee", "alice", "--limit", "2"];
    const result = await run(args, stand);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toBe(
      [
        "Added 2 tasks to conductor.yaml:",
        "  - id: 12-fix-date-parsing",
        "    issue: 12",
        "  - id: 14-add-a-json-flag",
        "    issue: 14",
        "Check it with `conductor plan`.",
      ].join("\n"),
    );
    const text = await readFile(path.join(repo.root, "conductor.yaml"), "utf8");
    expect(text.startsWith(original.trimEnd())).toBe(true);
    expect(text).toContain("  - id: 12-fix-date-parsing\n    issue: 12\n");

    const again = await run(args, stand);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toBe(
      [
        "No new issues to add to conductor.yaml.",
        "Skipped issue #12: already tasks[1] (issue: 12)",
        "Skipped issue #14: already tasks[2] (issue: 14)",
      ].join("\n"),
    );
    expect(await readFile(path.join(repo.root, "conductor.yaml"), "utf8")).toBe(text);
  });

  it("import prs adds pr: tasks that start from the pull request's head", async () => {
    await writeConfig({ tasks: [{ id: "tidy", prompt: "Tidy up." }] });
    const pr = Object.fromEntries(PR_FIELDS.map((field) => [field, null]));
    const stand = await gh([
      prList([
        {
          ...pr,
          number: 7,
          title: "Speed up the parser",
          headRefName: "fast",
          updatedAt: "2026-12-01T00:00:00Z",
        },
      ]),
    ]);
    const result = await run(["import", "prs"], stand);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(
      '  - id: 7-speed-up-the-parser\n    pr: 7\n    prompt: "Finish pull request #7 (Speed up the parser): address its review comments and make its checks pass."\n',
    );
    const text = await readFile(path.join(repo.root, "conductor.yaml"), "utf8");
    expect(text).toContain("pr: 7");
  });
});

describe("a task on a pull request", () => {
  it("conductor pr pushes the work onto the pull request's head branch instead of opening another", async () => {
    await repo.git("switch", "-q", "-c", "fast");
    await repo.write({ "parser.txt": "slow\n" });
    await repo.commitAll("parser");
    await repo.git("push", "-q", "origin", "fast");
    await repo.git("push", "-q", "origin", "fast:refs/pull/7/head");
    await repo.git("switch", "-q", "main");
    await writeConfig({ tasks: [{ id: "finish-7", pr: 7, prompt: "Finish it." }] });
    const view: GhRule = {
      command: ["pr", "view"],
      args: ["7"],
      answer: {
        json: {
          headRefName: "fast",
          isCrossRepository: false,
          url: "https://github.com/acme/widgets/pull/7",
        },
      },
    };
    const stand = await gh([view]);
    expect((await run(["run", "--output", "plain"], stand)).exitCode).toBe(0);
    const result = await run(["pr", "finish-7"], stand);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(
      "finish-7: pushed conductor/finish-7, updated https://github.com/acme/widgets/pull/7",
    );
    const remote = (await execa("git", ["rev-parse", "refs/heads/fast"], { cwd: origin })).stdout;
    expect(remote).toBe((await repo.git("rev-parse", "conductor/finish-7")).trim());
    expect((await stand.calls()).some((call) => call.args[1] === "create")).toBe(false);
  });
});

describe("gh's words before a run, redacted", () => {
  const SECRET = "sk-live-0123456789abcdefSECRET";

  /** A config copying `.env.local`, which holds SECRET (not committed: it holds a secret). */
  async function configCopyingSecrets(tasks: Record<string, unknown>[]): Promise<void> {
    await writeConfig({
      workspaces: { dir: path.join(repo.home, "workspaces"), copy: [".env.local"] },
      tasks,
    });
    await repo.write({ ".env.local": `PAYMENT_API_KEY=${SECRET}\n` });
  }

  async function ghLog(): Promise<string> {
    return readFile(path.join(repo.root, ".git", "conductor", "gh.log"), "utf8");
  }

  it("an issue gh fails to read with a copied env file's value in its words is reported redacted", async () => {
    await configCopyingSecrets([{ id: "dates", issue: 12 }]);
    const stand = await gh([
      {
        command: ["issue", "view"],
        answer: { exitCode: 1, stderr: `HTTP 401: token ${SECRET} refused\n` },
      },
    ]);
    const result = await run(["plan"], stand);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain(
      "issue #12 could not be read with gh (HTTP 401: token [redacted]",
    );
    expect(result.all).not.toContain(SECRET);
    const log = await ghLog();
    expect(log).toContain("HTTP 401: token [redacted] refused");
    expect(log).not.toContain(SECRET);
  });

  it("import issues redacts the config's copied secrets in gh's failure", async () => {
    await configCopyingSecrets([{ id: "tidy", prompt: "Tidy up." }]);
    const stand = await gh([
      {
        command: ["issue", "list"],
        answer: { exitCode: 1, stderr: `HTTP 401: token ${SECRET} refused\n` },
      },
    ]);
    const result = await run(["import", "issues"], stand);
    expect(result.exitCode, result.all).not.toBe(0);
    expect(result.stderr).toContain("gh issue list failed: HTTP 401: token [redacted]");
    expect(result.all).not.toContain(SECRET);
    expect(await ghLog()).not.toContain(SECRET);
  });
});
