import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CheckItem, WorkspaceChecks } from "../../src/merge/checks.js";
import { PULL_REQUEST_FIELDS } from "../../src/review/github-pr.js";
import {
  authStatus,
  checkRun,
  deployment,
  type GhScenario,
  type GhStandIn,
  installGh,
  prView,
  pullRequest,
  reviewThreadsAndDeployments,
  scenarios,
} from "../helpers/gh-stand-in.js";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

const BRANCH = "conductor/feature";

/** A finished, checked workspace `feature` whose repository has a GitHub origin. */
async function finishedFeature(): Promise<{ repo: ReviewRepo; head: string }> {
  repo = await reviewRepo([{ id: "feature", check: "test -f feature.txt" }]);
  await runAll(repo);
  await repo.git("remote", "add", "origin", "git@github.com:acme/widgets.git");
  return { repo, head: await repo.git("rev-parse", BRANCH) };
}

async function checksWith(
  current: ReviewRepo,
  scenario: GhScenario | undefined,
): Promise<{ exitCode: number; items: CheckItem[]; gh: GhStandIn; text: string }> {
  const gh = await installGh(current.home, scenario);
  const result = await current.cli(["checks", "--json", "feature"], { PATH: gh.path });
  expect([0, 1], result.all).toContain(result.exitCode);
  const parsed = JSON.parse(result.stdout) as { workspaces: WorkspaceChecks[] };
  const text = await current.cli(["checks", "feature"], { PATH: gh.path });
  expect(text.exitCode).toBe(result.exitCode);
  expect(await gh.unmatched()).toEqual([]);
  return {
    exitCode: result.exitCode,
    items: parsed.workspaces[0]?.items ?? [],
    gh,
    text: text.stdout,
  };
}

function githubPart(items: readonly CheckItem[]): CheckItem[] {
  const local = [
    "finished",
    "uncommitted",
    "ahead",
    "behind",
    "check-script",
    "review",
    "added-markers",
    "conflicts",
  ];
  return items.filter((item) => !local.includes(item.id));
}

describe("conductor checks, GitHub items", () => {
  it("without gh, says how to enable GitHub and blocks nothing", async () => {
    const { repo } = await finishedFeature();
    const { exitCode, items, text } = await checksWith(repo, undefined);
    expect(exitCode).toBe(0);
    expect(githubPart(items)).toEqual([
      {
        id: "github",
        level: "info",
        reason:
          "GitHub not asked: gh is not installed; install the GitHub CLI (e.g. apt-get install gh), then run gh auth login",
      },
    ]);
    expect(text).toContain("  info   GitHub not asked: gh is not installed");
  });

  it("with gh logged out, says to log in and asks nothing else", async () => {
    const { repo } = await finishedFeature();
    const { exitCode, items, gh } = await checksWith(repo, scenarios.loggedOut());
    expect(exitCode).toBe(0);
    expect(githubPart(items)).toEqual([
      {
        id: "github",
        level: "info",
        reason: "GitHub not asked: gh is not logged in; run gh auth login",
      },
    ]);
    expect((await gh.calls()).map((call) => call.args)).toEqual([
      ["auth", "status"],
      ["auth", "status"],
    ]);
  });

  it("with no pull request for the branch, prints the command that opens one", async () => {
    const { repo } = await finishedFeature();
    const { exitCode, items } = await checksWith(repo, scenarios.noPullRequest(BRANCH));
    expect(exitCode).toBe(0);
    const runId = repo.runIds().at(-1) as string;
    expect(githubPart(items)).toEqual([
      {
        id: "github",
        level: "info",
        reason: `no pull request for ${BRANCH} (open one with: conductor pr feature --run ${runId})`,
      },
    ]);
  });

  it("blocks on a failing CI check, names it, and counts the passing one", async () => {
    const { repo, head } = await finishedFeature();
    const { exitCode, items, gh, text } = await checksWith(
      repo,
      scenarios.failingAndPassingChecks(BRANCH, head),
    );
    expect(exitCode).toBe(1);
    expect(githubPart(items)).toEqual([
      {
        id: "pr",
        level: "pass",
        reason: "PR #7 is open at the branch's head (https://github.com/acme/widgets/pull/7)",
      },
      { id: "pr-review", level: "warn", reason: "GitHub requires a review; none approved yet" },
      {
        id: "ci",
        level: "block",
        reason:
          "1 of 2 CI checks passed; failing: test (https://github.com/acme/widgets/actions/runs/1/job/4)",
      },
      { id: "deployments", level: "info", reason: "no deployments of the head commit" },
      { id: "review-threads", level: "pass", reason: "no unresolved review comments" },
    ]);
    expect(text).toContain("feature (conductor/feature): BLOCKED");
    expect(text).toContain("  block  1 of 2 CI checks passed; failing: test");
    const [auth, view, graphql] = await gh.calls();
    expect(auth?.args).toEqual(["auth", "status"]);
    expect(view?.args).toEqual(["pr", "view", BRANCH, "--json", PULL_REQUEST_FIELDS.join(",")]);
    expect(view?.cwd).toBe(repo.root);
    expect(graphql?.args.slice(0, 2)).toEqual(["api", "graphql"]);
    expect(graphql?.args).toContain("owner=acme");
    expect(graphql?.args).toContain("name=widgets");
    expect(graphql?.args).toContain("number=7");
  });

  it("passes green CI and an approval, with a live deployment", async () => {
    const { repo, head } = await finishedFeature();
    const scenario: GhScenario = {
      rules: [
        authStatus(true),
        prView(
          BRANCH,
          pullRequest({
            headRefOid: head,
            reviewDecision: "APPROVED",
            statusCheckRollup: [checkRun("build", "SUCCESS"), checkRun("docs", "SKIPPED")],
          }),
        ),
        reviewThreadsAndDeployments(
          [],
          [deployment("preview", "PENDING"), deployment("preview", "ACTIVE")],
        ),
      ],
    };
    const { exitCode, items } = await checksWith(repo, scenario);
    expect(exitCode).toBe(0);
    expect(githubPart(items).map((item) => [item.id, item.level])).toEqual([
      ["pr", "pass"],
      ["pr-review", "pass"],
      ["ci", "pass"],
      ["deployments", "pass"],
      ["review-threads", "pass"],
    ]);
    // The last deployment of an environment is the live one.
    expect(githubPart(items)[3]?.reason).toBe(
      "deployed: preview active (https://preview.example.com)",
    );
  });

  it("blocks on unresolved review comments and names where they are", async () => {
    const { repo, head } = await finishedFeature();
    const { exitCode, items } = await checksWith(repo, scenarios.unresolvedComments(BRANCH, head));
    expect(exitCode).toBe(1);
    const threads = items.find((item) => item.id === "review-threads");
    expect(threads).toEqual({
      id: "review-threads",
      level: "block",
      reason:
        "2 unresolved review comments: src/app.ts:12 (reviewer: Please handle the empty case.), src/app.ts:30 (octocat: Typo in the name.)",
    });
    expect(items.find((item) => item.id === "ci")?.level).toBe("pass");
    expect(items.find((item) => item.id === "pr-review")?.level).toBe("pass");
    expect(items.filter((item) => item.level === "block").map((item) => item.id)).toEqual([
      "review-threads",
    ]);
  });

  it("reports a merged pull request without asking for its threads", async () => {
    const { repo, head } = await finishedFeature();
    const { items, gh } = await checksWith(repo, scenarios.merged(BRANCH, head));
    expect(githubPart(items)).toEqual([
      {
        id: "pr",
        level: "info",
        reason: "PR #7 is merged on GitHub (https://github.com/acme/widgets/pull/7)",
      },
    ]);
    expect((await gh.calls()).some((call) => call.args[0] === "api")).toBe(false);
  });

  it("an old merged PR of a reused branch name counts as no pull request", async () => {
    const { repo } = await finishedFeature();
    const { items } = await checksWith(repo, scenarios.merged(BRANCH, "d".repeat(40)));
    const github = githubPart(items);
    expect(github).toHaveLength(1);
    expect(github[0]?.id).toBe("github");
    expect(github[0]?.reason).toContain("no pull request for conductor/feature");
  });

  it("warns when GitHub has another head than the branch", async () => {
    const { repo } = await finishedFeature();
    const { items } = await checksWith(
      repo,
      scenarios.failingAndPassingChecks(BRANCH, "f".repeat(40)),
    );
    const pr = items.find((item) => item.id === "pr");
    expect(pr?.level).toBe("warn");
    expect(pr?.reason).toContain("is at ffffffffff on GitHub");
  });

  it("turns a gh failure into a warning with gh's words, not a crash", async () => {
    const { repo } = await finishedFeature();
    const { exitCode, items } = await checksWith(repo, {
      rules: [
        authStatus(true),
        {
          command: ["pr", "view"],
          answer: {
            exitCode: 1,
            stderr: "HTTP 502: Bad Gateway (https://api.github.com/graphql)\n",
          },
        },
      ],
    });
    expect(exitCode).toBe(0);
    const github = githubPart(items);
    expect(github).toHaveLength(1);
    expect(github[0]?.level).toBe("warn");
    expect(github[0]?.reason).toContain("HTTP 502: Bad Gateway");
    expect(github[0]?.reason).toContain(path.join(repo.runDir(), "github.log"));
  });

  it("judges the head it read first, and blocks when the branch moved during the checks", async () => {
    const { repo, head } = await finishedFeature();
    // gh is asked after the branches' heads are read and before the items are gathered: an
    // agent's process left behind (or the user) commits meanwhile.
    const commit = `git -C '${repo.worktree("feature")}' commit -q --allow-empty -m unchecked`;
    const gh = await installGh(repo.home, {
      rules: [
        { ...authStatus(true), answer: { ...authStatus(true).answer, exec: commit } },
        prView(BRANCH, undefined),
      ],
    });
    const result = await repo.cli(["checks", "--json", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(1);
    const [feature] = (JSON.parse(result.stdout) as { workspaces: WorkspaceChecks[] }).workspaces;
    const now = await repo.git("rev-parse", BRANCH);
    expect(now).not.toBe(head);
    // Every item is about the head read first, the one a merge of these checks would land.
    expect(feature?.head).toBe(head);
    expect(feature?.items.find((item) => item.id === "check-script")?.level).toBe("pass");
    expect(feature?.blocked).toBe(true);
    expect(feature?.items.at(-1)).toEqual({
      id: "moved",
      level: "block",
      reason: `${BRANCH} moved while it was being checked (checked at ${head.slice(0, 10)}, now at ${now.slice(0, 10)}): these items are about ${head.slice(0, 10)}, not the branch; see what moved it, then run conductor checks feature --run ${repo.runIds().at(-1)}`,
    });
    const text = await repo.cli(["checks", "feature"], { PATH: gh.path });
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain("feature (conductor/feature): BLOCKED");
    expect(text.stdout).toContain("0 of 1 workspace ready to merge.");
    expect(await gh.unmatched()).toEqual([]);
  });
});

describe("conductor checks, gh's words", () => {
  it("redacts a copied env file's secret that a failing gh prints, in the items and github.log", async () => {
    const secret = "sk-live-0123456789abcdefSECRET";
    repo = await reviewRepo([{ id: "feature", check: "test -f feature.txt" }], {
      workspaces: { copy: [".env.local"] },
    });
    await writeFile(path.join(repo.root, ".env.local"), `PAYMENT_API_KEY=${secret}\n`);
    await runAll(repo);
    await repo.git("remote", "add", "origin", "git@github.com:acme/widgets.git");
    const { items, text } = await checksWith(repo, {
      rules: [
        authStatus(true),
        {
          command: ["pr", "view"],
          answer: { exitCode: 1, stderr: `HTTP 401: token ${secret} refused\n` },
        },
      ],
    });
    const github = githubPart(items);
    expect(github).toHaveLength(1);
    expect(github[0]?.reason).toContain("HTTP 401: token [redacted] refused");
    expect(text).toContain("HTTP 401: token [redacted] refused");
    expect(JSON.stringify(items)).not.toContain(secret);
    expect(text).not.toContain(secret);
    const log = await readFile(path.join(repo.runDir(), "github.log"), "utf8");
    expect(log).toContain("HTTP 401: token [redacted] refused");
    expect(log).not.toContain(secret);
  });
});
