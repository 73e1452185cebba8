import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { PULL_REQUEST_FIELDS } from "../../src/review/github-pr.js";
import { conductor } from "../helpers/cli.js";
import {
  authStatus,
  type GhCall,
  type GhScenario,
  installGh,
  prCreate,
  prEdit,
  prView,
  pullRequest,
  scenarios,
} from "../helpers/gh-stand-in.js";
import { runAsPrinted } from "../lifecycle/hints.js";
import { type ReviewRepo, readOr, reviewRepo, runAll } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

const PROMPT = "Add a feature flag for dark mode\n\nUse the existing settings store.";

/** A PATH holding only node, git and sh, and `gh` when `scenario` is given. */
async function pathWith(home: string, scenario?: GhScenario): Promise<string> {
  return (await installGh(home, scenario)).path;
}

/** gh logged in, no pull request yet, and `gh pr create` failing as GitHub does at times. */
function createFails(): GhScenario {
  return {
    rules: [
      authStatus(true),
      prView(BRANCH, undefined),
      { command: ["pr", "create"], answer: { exitCode: 1, stderr: "HTTP 502: try again\n" } },
    ],
  };
}

const BRANCH = "conductor/feature";

/** Logged in; the branch has no pull request yet; `pr create` answers with its URL. */
function noPullRequestYet(): GhScenario {
  return { rules: [authStatus(true), prView(BRANCH, undefined), prCreate()] };
}

async function ghCalls(current: ReviewRepo): Promise<GhCall[]> {
  return (await installGh(current.home, undefined)).calls();
}

async function bareOrigin(current: ReviewRepo): Promise<string> {
  const remote = path.join(current.home, "origin.git");
  await execa("git", ["init", "-q", "--bare", remote]);
  await current.git("remote", "add", "origin", remote);
  return remote;
}

async function remoteBranches(remote: string): Promise<string> {
  return (await execa("git", ["--git-dir", remote, "for-each-ref", "--format=%(refname)"])).stdout;
}

/** The `gh pr create` conductor runs for the task of PROMPT, with its body file. */
function prCreateArgs(bodyFile: string, ...more: string[]): string[] {
  return [
    "pr",
    "create",
    "--head",
    "conductor/feature",
    "--base",
    "main",
    "--title",
    "Add a feature flag for dark mode",
    "--body-file",
    bodyFile,
    ...more,
  ];
}

describe("conductor pr", () => {
  it("without gh, prints the push and compare commands and pushes nothing", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }], { scripts: { check: "true" } });
    await runAll(repo);
    await repo.git("remote", "add", "origin", "git@github.com:acme/widgets.git");
    const bin = await pathWith(repo.home);
    const result = await repo.cli(["pr", "feature"], { PATH: bin });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stdout).toContain("gh (the GitHub CLI) is not installed, so nothing was pushed");
    expect(result.stdout).toContain("feature: Add a feature flag for dark mode\n");
    expect(result.stdout).toContain("\n  git push -u origin conductor/feature\n");
    expect(result.stdout).toContain(
      "https://github.com/acme/widgets/compare/main...conductor/feature?expand=1",
    );
    expect(await repo.git("for-each-ref", "refs/remotes")).toBe("");
    expect(await repo.git("config", "--get-regexp", "^branch\\.").catch(() => "")).toBe("");
    // The description is ready for whoever opens the pull request.
    const body = readOr(path.join(repo.runDir(), "workspaces", "feature", "pr.md"));
    expect(body).toContain("Use the existing settings store.");
    expect(body).toContain("wrote feature.txt");
    expect(body).toContain("✅ passed: `true`");
  });

  it("without gh and with a remote that is not on GitHub, pushes nothing and names the branches", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    const remote = await bareOrigin(repo);
    const result = await repo.cli(["pr", "feature"], { PATH: await pathWith(repo.home) });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stdout).toContain("git push -u origin conductor/feature");
    expect(result.stdout).toContain(
      `then open a pull request from conductor/feature into main on ${remote}`,
    );
    expect(await remoteBranches(remote)).toBe("");
  });

  it("without gh, never prints the token a remote URL carries (as CI clones set it)", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    const token = "glpat-s3cr3tT0kenValue";
    await repo.git("remote", "add", "origin", `https://oauth2:${token}@gitlab.example.com/o/r.git`);
    const result = await repo.cli(["pr", "feature"], { PATH: await pathWith(repo.home) });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stdout).toContain(
      "then open a pull request from conductor/feature into main on https://***:***@gitlab.example.com/o/r.git",
    );
    expect(result.all).not.toContain(token);
  });

  it("when gh cannot open the pull request, prints a command that opens it as conductor would have", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    await bareOrigin(repo);
    const failing = createFails();
    const result = await repo.cli(["pr", "feature"], { PATH: await pathWith(repo.home, failing) });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain("was pushed, but the pull request could not be opened");
    const printed = /Open it by hand: (gh pr create .*)$/m.exec(result.stderr)?.[1] as string;
    const bodyFile = path.join(repo.runDir(), "workspaces", "feature", "pr.md");
    expect(printed).toBe(
      `gh pr create --head conductor/feature --base main --title 'Add a feature flag for dark mode' --body-file ${bodyFile}`,
    );
    // Pasted, it opens the pull request with conductor's title and body.
    await pathWith(repo.home, noPullRequestYet());
    const pasted = await runAsPrinted(printed, { cwd: repo.root, home: repo.home });
    expect(pasted.exitCode, pasted.all).toBe(0);
    const create = (await ghCalls(repo)).at(-1) as GhCall;
    expect(create.args).toEqual(prCreateArgs(bodyFile));
    expect(create.body).toContain("### Task");
  });

  it("started elsewhere with -C, prints the gh command to run in the repository, and it works pasted from there", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    await bareOrigin(repo);
    const failing = createFails();
    const elsewhere = path.dirname(repo.root);
    const result = await conductor(["-C", repo.root, "pr", "feature"], {
      cwd: elsewhere,
      home: repo.home,
      env: { PATH: await pathWith(repo.home, failing) },
    });
    expect(result.exitCode, result.all).toBe(1);
    const printed = /Open it by hand: (.*gh pr create .*)$/m.exec(result.stderr)?.[1] as string;
    expect(printed).toMatch(/^cd \S+ && gh pr create --head conductor\/feature /);
    await pathWith(repo.home, noPullRequestYet());
    const pasted = await runAsPrinted(printed, { cwd: elsewhere, home: repo.home });
    expect(pasted.exitCode, pasted.all).toBe(0);
    const bodyFile = path.join(repo.runDir(), "workspaces", "feature", "pr.md");
    expect(((await ghCalls(repo)).at(-1) as GhCall).args).toEqual(prCreateArgs(bodyFile));
  });

  it("with no origin remote, says so and prints what to run", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    const result = await repo.cli(["pr", "feature"], { PATH: await pathWith(repo.home) });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stdout).toContain("the repository has no origin remote, so nothing was pushed");
    expect(result.stdout).toContain("git remote add origin <url of the repository>");
    expect(result.stdout).toContain("git push -u origin conductor/feature");
  });

  it("with gh logged in, pushes the branch and opens the pull request from the task", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }], { scripts: { check: "true" } });
    await runAll(repo);
    const remote = await bareOrigin(repo);
    const bin = await pathWith(repo.home, noPullRequestYet());
    const result = await repo.cli(["pr", "feature", "--draft"], { PATH: bin });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toBe(
      "feature: pushed conductor/feature, opened https://github.com/acme/widgets/pull/7",
    );
    expect(await remoteBranches(remote)).toBe("refs/heads/conductor/feature");
    expect(await repo.git("rev-parse", "conductor/feature")).toBe(
      (await execa("git", ["--git-dir", remote, "rev-parse", "conductor/feature"])).stdout,
    );
    expect(await repo.git("config", "branch.conductor/feature.remote")).toBe("origin");
    const calls = await ghCalls(repo);
    expect(calls.map((call) => call.rule)).toEqual([0, 1, 2]);
    expect(calls[1]?.args).toEqual(["pr", "view", BRANCH, "--json", PULL_REQUEST_FIELDS.join(",")]);
    expect(calls[2]?.args).toEqual(
      prCreateArgs(path.join(repo.runDir(), "workspaces", "feature", "pr.md"), "--draft"),
    );
    const body = calls[2]?.body ?? "";
    expect(body).toContain(
      "### Task\n\nAdd a feature flag for dark mode\n\nUse the existing settings store.",
    );
    expect(body).toContain("### Agent's final message\n\nwrote feature.txt");
    expect(body).toContain("### Check\n\n✅ passed: `true`");
  });

  it("never force-pushes: a rejected push opens nothing and leaves the remote as it was", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    const remote = await bareOrigin(repo);
    // Someone else pushed a different conductor/feature first.
    const other = await repo.git("commit-tree", "main^{tree}", "-p", "main", "-m", "their work");
    await repo.git("push", "-q", "origin", `${other}:refs/heads/conductor/feature`);
    const theirs = (await execa("git", ["--git-dir", remote, "rev-parse", "conductor/feature"]))
      .stdout;
    const bin = await pathWith(repo.home, noPullRequestYet());
    const result = await repo.cli(["pr", "feature"], { PATH: bin });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain("git push of conductor/feature failed");
    expect(result.stderr).toContain("conductor never force-pushes");
    expect(
      (await execa("git", ["--git-dir", remote, "rev-parse", "conductor/feature"])).stdout,
    ).toBe(theirs);
    expect((await ghCalls(repo)).some((call) => call.args[1] === "create")).toBe(false);
  });

  it("with gh not logged in, falls back to printing the commands", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    const remote = await bareOrigin(repo);
    const result = await repo.cli(["pr", "feature"], {
      PATH: await pathWith(repo.home, scenarios.loggedOut()),
    });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stdout).toContain(
      "gh is not logged in (run `gh auth login`), so nothing was pushed",
    );
    expect(await remoteBranches(remote)).toBe("");
  });

  it("refuses a workspace that did not succeed unless --force", async () => {
    repo = await reviewRepo([{ id: "broken", prompt: PROMPT, check: "exit 1" }]);
    await runAll(repo);
    await repo.git("remote", "add", "origin", "https://github.com/acme/widgets.git");
    const bin = await pathWith(repo.home);
    const refused = await repo.cli(["pr", "broken"], { PATH: bin });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("broken did not succeed (failed: check failed (exit 1))");
    const forced = await repo.cli(["pr", "broken", "--force"], { PATH: bin });
    expect(forced.exitCode, forced.all).toBe(1);
    expect(forced.stdout).toContain("git push -u origin conductor/broken");
    expect(readOr(path.join(repo.runDir(), "workspaces", "broken", "pr.md"))).toContain(
      "❌ failed: `exit 1`",
    );
  });

  it("writes the changes, the review's verdict and its open findings into the body", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }], { scripts: { check: "true" } });
    await runAll(repo);
    await repo.git("remote", "add", "origin", "git@github.com:acme/widgets.git");
    const review = {
      overall_correctness: "patch is incorrect",
      overall_explanation: "The flag is read before the store loads.",
      findings: [
        {
          title: "[P2] Name the flag after the setting",
          body: "darkMode reads better.",
          priority: 2,
          code_location: {
            absolute_file_path: path.join(repo.worktree("feature"), "feature.txt"),
            line_range: { start: 1, end: 1 },
          },
        },
        {
          title: "[P1] Read the flag after the store loads",
          body: "Otherwise it is always false.\nSecond line.",
          priority: 1,
          code_location: {
            absolute_file_path: path.join(repo.worktree("feature"), "feature.txt"),
            line_range: { start: 1, end: 2 },
          },
        },
        { title: "[P0] Already fixed", body: "gone", priority: 0, resolved: true },
      ],
    };
    await writeFile(
      path.join(repo.runDir(), "workspaces", "feature", "review.json"),
      JSON.stringify(review),
    );
    const result = await repo.cli(["pr", "feature"], { PATH: await pathWith(repo.home) });
    expect(result.exitCode, result.all).toBe(1);
    const body = readOr(path.join(repo.runDir(), "workspaces", "feature", "pr.md"));
    expect(body).toContain(
      "### Changes\n\n```\n feature.txt | 1 +\n 1 file changed, 1 insertion(+)\n```",
    );
    expect(body).toContain(
      [
        "### Review",
        "",
        "❌ The reviewer says the patch is incorrect.",
        "",
        "The flag is read before the store loads.",
        "",
        "2 open findings:",
        "- **P1** Read the flag after the store loads — `feature.txt:1-2`: Otherwise it is always false.",
        "- **P2** Name the flag after the setting — `feature.txt:1-1`: darkMode reads better.",
      ].join("\n"),
    );
    expect(body).not.toContain("Already fixed");
    expect(body).not.toContain("Closes #");
  });

  it("says when a workspace was not reviewed", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    await repo.git("remote", "add", "origin", "git@github.com:acme/widgets.git");
    const result = await repo.cli(["pr", "feature"], { PATH: await pathWith(repo.home) });
    expect(result.exitCode, result.all).toBe(1);
    expect(readOr(path.join(repo.runDir(), "workspaces", "feature", "pr.md"))).toContain(
      "### Review\n\nNot reviewed.\n",
    );
  });

  it("updates an open pull request's title and body with gh pr edit instead of opening another", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }], { scripts: { check: "true" } });
    await runAll(repo);
    const remote = await bareOrigin(repo);
    const scenario: GhScenario = {
      rules: [
        authStatus(true),
        prView(BRANCH, pullRequest({ number: 7, headRefName: BRANCH, title: "old title" })),
        prEdit(7),
      ],
    };
    const bin = await pathWith(repo.home, scenario);
    const result = await repo.cli(["pr", "feature"], { PATH: bin });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toBe(
      "feature: pushed conductor/feature, updated the description of https://github.com/acme/widgets/pull/7",
    );
    const calls = await ghCalls(repo);
    expect(calls.filter((call) => call.rule === null)).toEqual([]);
    const bodyFile = path.join(repo.runDir(), "workspaces", "feature", "pr.md");
    expect(calls.at(-1)?.args).toEqual([
      "pr",
      "edit",
      "7",
      "--title",
      "Add a feature flag for dark mode",
      "--body-file",
      bodyFile,
    ]);
    expect(calls.at(-1)?.body).toBe(readOr(bodyFile));
    expect(calls.at(-1)?.body).toContain("### Check\n\n✅ passed: `true`");
    expect(await remoteBranches(remote)).toBe("refs/heads/conductor/feature");
  });

  it("pushes nothing when gh cannot say whether the branch has a pull request", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    const remote = await bareOrigin(repo);
    const bin = await pathWith(repo.home, {
      rules: [
        authStatus(true),
        { command: ["pr", "view"], answer: { exitCode: 1, stderr: "HTTP 502: Bad Gateway\n" } },
      ],
    });
    const result = await repo.cli(["pr", "feature"], { PATH: bin });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain("cannot tell whether conductor/feature has a pull request");
    expect(result.stderr).toContain("HTTP 502: Bad Gateway");
    expect(await remoteBranches(remote)).toBe("");
  });

  it("refuses --describe for the command agent before writing anything", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    await repo.git("remote", "add", "origin", "git@github.com:acme/widgets.git");
    const result = await repo.cli(["pr", "feature", "--describe"], {
      PATH: await pathWith(repo.home),
    });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain(
      "--describe needs a codex or claude agent for a read-only turn; feature uses the command agent",
    );
    expect(existsSync(path.join(repo.runDir(), "workspaces", "feature", "pr.md"))).toBe(false);
  });
});

describe("conductor pr, gh's words", () => {
  it("redacts a secret of a copied env file that a failing gh prints, in the error and the log", async () => {
    const secret = "sk-live-0123456789abcdefSECRET";
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }], {
      workspaces: { copy: [".env.local"] },
    });
    await writeFile(path.join(repo.root, ".env.local"), `PAYMENT_API_KEY=${secret}\n`);
    await runAll(repo);
    await bareOrigin(repo);
    const failing: GhScenario = {
      rules: [
        authStatus(true),
        prView(BRANCH, undefined),
        {
          command: ["pr", "create"],
          answer: { exitCode: 1, stderr: `pull request create failed: key ${secret} refused\n` },
        },
      ],
    };
    const result = await repo.cli(["pr", "feature"], { PATH: await pathWith(repo.home, failing) });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toContain("pull request create failed: key");
    expect(result.all).not.toContain(secret);
    const log = readOr(path.join(repo.runDir(), "workspaces", "feature", "pr.log"));
    expect(log).toContain("pull request create failed");
    expect(log).not.toContain(secret);
  });
});

describe("conductor pr, gh's login check", () => {
  it("redacts a copied env file's secret that a failing gh auth status prints, in the log", async () => {
    const secret = "sk-live-0123456789abcdefSECRET";
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }], {
      workspaces: { copy: [".env.local"] },
    });
    await writeFile(path.join(repo.root, ".env.local"), `PAYMENT_API_KEY=${secret}\n`);
    await runAll(repo);
    await bareOrigin(repo);
    const loggedOut: GhScenario = {
      rules: [
        {
          command: ["auth", "status"],
          answer: { exitCode: 1, stderr: `github.com: the token ${secret} is invalid\n` },
        },
      ],
    };
    const result = await repo.cli(["pr", "feature"], {
      PATH: await pathWith(repo.home, loggedOut),
    });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toContain("gh is not logged in");
    expect(result.all).not.toContain(secret);
    const log = readOr(path.join(repo.runDir(), "workspaces", "feature", "pr.log"));
    expect(log).toContain("the token [redacted] is invalid");
    expect(log).not.toContain(secret);
  });
});
