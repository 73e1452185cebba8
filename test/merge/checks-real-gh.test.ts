import { symlink } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveAgentProgram } from "../../src/agents/resolve-binary.js";
import type { CheckItem, WorkspaceChecks } from "../../src/merge/checks.js";
import {
  type GitHubApi,
  graphQlPullRequest,
  LOCAL_GITHUB_REMOTE,
  startGitHubApi,
} from "../helpers/gh-api-server.js";
import { installGh } from "../helpers/gh-stand-in.js";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";

/** Debian's gh (apt-get install gh), when this machine has it. */
const realGh = resolveAgentProgram(undefined, undefined, "gh")?.file;

let repo: ReviewRepo | undefined;
let api: GitHubApi | undefined;

afterEach(async () => {
  await repo?.remove();
  await api?.close();
  repo = undefined;
  api = undefined;
});

const BRANCH = "conductor/feature";

describe.skipIf(realGh === undefined)(
  "conductor checks with the real gh against a scripted API",
  () => {
    it("reads the PR's state, review decision, CI checks, threads and deployments as gh prints them", async () => {
      repo = await reviewRepo([{ id: "feature", check: "test -f feature.txt" }]);
      await runAll(repo);
      await repo.git("remote", "add", "origin", LOCAL_GITHUB_REMOTE);
      const head = await repo.git("rev-parse", BRANCH);
      api = await startGitHubApi({
        login: "octocat",
        pullRequests: {
          [BRANCH]: [
            graphQlPullRequest({ headRefName: BRANCH, headRefOid: head }, [
              {
                __typename: "CheckRun",
                name: "build",
                checkSuite: { workflowRun: { workflow: { name: "CI" } } },
                status: "COMPLETED",
                conclusion: "SUCCESS",
                startedAt: "2026-12-04T10:00:00Z",
                completedAt: "2026-12-04T10:05:00Z",
                detailsUrl: "https://ci.example.com/build",
              },
              {
                __typename: "CheckRun",
                name: "test",
                checkSuite: { workflowRun: { workflow: { name: "CI" } } },
                status: "COMPLETED",
                conclusion: "FAILURE",
                startedAt: "2026-12-04T10:00:00Z",
                completedAt: "2026-12-04T10:05:00Z",
                detailsUrl: "https://ci.example.com/test",
              },
              {
                __typename: "StatusContext",
                context: "ci/lint",
                state: "PENDING",
                targetUrl: "https://ci.example.com/lint",
                createdAt: "2026-12-04T10:00:00Z",
              },
            ]),
          ],
        },
        reviewActivity: {
          repository: {
            pullRequest: {
              reviewThreads: {
                totalCount: 1,
                nodes: [
                  {
                    isResolved: false,
                    isOutdated: false,
                    path: "src/app.ts",
                    line: 3,
                    comments: {
                      nodes: [{ author: { login: "reviewer" }, body: "Why?", url: "u" }],
                    },
                  },
                ],
              },
              commits: { nodes: [{ commit: { deployments: { nodes: [] } } }] },
            },
          },
        },
      });
      const bin = (await installGh(repo.home, undefined)).bin;
      await symlink(realGh as string, path.join(bin, "gh"));
      const result = await repo.cli(["checks", "--json", "feature"], {
        PATH: bin,
        ...api.env(repo.home),
      });
      expect(result.exitCode, result.all).toBe(1);
      const items = (JSON.parse(result.stdout) as { workspaces: WorkspaceChecks[] }).workspaces[0]
        ?.items as CheckItem[];
      const github = items.filter((item) =>
        ["github", "pr", "pr-review", "ci", "deployments", "review-threads"].includes(item.id),
      );
      expect(github).toEqual([
        {
          id: "pr",
          level: "pass",
          reason:
            "PR #7 is open at the branch's head (https://github.localhost/acme/widgets/pull/7)",
        },
        { id: "pr-review", level: "warn", reason: "GitHub requires a review; none approved yet" },
        {
          id: "ci",
          level: "block",
          reason:
            "1 of 3 CI checks passed; failing: test (https://ci.example.com/test); pending: ci/lint",
        },
        { id: "deployments", level: "info", reason: "no deployments of the head commit" },
        {
          id: "review-threads",
          level: "block",
          reason: "1 unresolved review comment: src/app.ts:3 (reviewer: Why?)",
        },
      ]);
      const graphql = api.requests.filter((request) => request.url.endsWith("/graphql"));
      expect(graphql.map((request) => request.operation)).toEqual([
        "UserCurrent",
        "PullRequestForBranch",
        undefined,
      ]);
      expect(graphql[1]?.variables).toMatchObject({
        owner: "acme",
        repo: "widgets",
        headRefName: BRANCH,
      });
      expect(graphql[2]?.variables).toEqual({ owner: "acme", name: "widgets", number: 7 });
    });
  },
);
