import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

/**
 * A scripted GitHub API for the real `gh` (Debian's gh 2.23). gh treats the host
 * `github.localhost` as a local GitHub and talks plain HTTP to `http://api.github.localhost/`,
 * honouring `HTTP_PROXY`: pointing that at this server reaches it with no certificate and no
 * network. GraphQL requests are answered by operation (gh names its queries; conductor's own
 * `gh api graphql` query is recognised by its `reviewThreads`), REST `GET /` with token scopes.
 */

/** The remote URL a test repository needs so that gh looks for its pull requests here. */
export const LOCAL_GITHUB_REMOTE = "https://github.localhost/acme/widgets.git";

/** One request gh made. */
export interface ApiRequest {
  method: string;
  url: string;
  operation: string | undefined;
  variables: Record<string, unknown>;
}

/** What the API knows: the branch's pull request (GraphQL shape) and its review activity. */
export interface ApiWorld {
  login: string;
  /** Pull requests by head branch, as GraphQL `PullRequest` nodes. */
  pullRequests: Record<string, Record<string, unknown>[]>;
  /** The answer to conductor's review-threads-and-deployments query, as `data`. */
  reviewActivity?: Record<string, unknown>;
}

/** A running scripted API. */
export interface GitHubApi {
  /** Environment that sends gh here and logs it in (GH_ENTERPRISE_TOKEN for a non-github.com host). */
  env(configDir: string): Record<string, string>;
  requests: ApiRequest[];
  close(): Promise<void>;
}

/** Starts the API on a free port. */
export async function startGitHubApi(world: ApiWorld): Promise<GitHubApi> {
  const requests: ApiRequest[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const parsed = body === "" ? {} : (JSON.parse(body) as Record<string, unknown>);
      const query = String(parsed.query ?? "");
      const operation = /^\s*(?:query|mutation)\s+(\w+)/.exec(query)?.[1];
      const variables = (parsed.variables ?? {}) as Record<string, unknown>;
      requests.push({ method: req.method ?? "", url: req.url ?? "", operation, variables });
      res.setHeader("content-type", "application/json");
      res.setHeader("x-oauth-scopes", "repo, read:org, gist");
      res.end(JSON.stringify(answer(world, req.url ?? "", operation, query, variables)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    env: (configDir) => ({
      GH_HOST: "github.localhost",
      GH_ENTERPRISE_TOKEN: "scripted-token",
      HTTP_PROXY: `http://127.0.0.1:${port}`,
      http_proxy: `http://127.0.0.1:${port}`,
      GH_CONFIG_DIR: path.join(configDir, "gh-config"),
      GH_NO_UPDATE_NOTIFIER: "1",
    }),
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function answer(
  world: ApiWorld,
  url: string,
  operation: string | undefined,
  query: string,
  variables: Record<string, unknown>,
): unknown {
  if (!url.endsWith("/graphql")) return { login: world.login };
  if (operation === "UserCurrent") return { data: { viewer: { login: world.login } } };
  if (operation === "PullRequestForBranch") {
    const nodes = world.pullRequests[String(variables.headRefName)] ?? [];
    return {
      data: { repository: { pullRequests: { nodes }, defaultBranchRef: { name: "main" } } },
    };
  }
  if (query.includes("reviewThreads") && world.reviewActivity !== undefined) {
    return { data: world.reviewActivity };
  }
  return {
    errors: [{ message: `scripted API: no answer for ${operation ?? "an unnamed query"}` }],
  };
}

/** A pull request node as GitHub's GraphQL API returns the fields gh asks for. */
export function graphQlPullRequest(
  fields: Record<string, unknown> & { headRefName: string; headRefOid: string },
  checks: readonly Record<string, unknown>[],
): Record<string, unknown> {
  return {
    number: 7,
    url: "https://github.localhost/acme/widgets/pull/7",
    title: "Add a feature",
    state: "OPEN",
    isDraft: false,
    reviewDecision: "REVIEW_REQUIRED",
    mergeStateStatus: "CLEAN",
    baseRefName: "main",
    id: "PR_7",
    isCrossRepository: false,
    headRepositoryOwner: { id: "U_1", login: "acme" },
    statusCheckRollup: {
      nodes: [
        {
          commit: {
            statusCheckRollup: {
              contexts: { nodes: checks, pageInfo: { hasNextPage: false, endCursor: "" } },
            },
          },
        },
      ],
    },
    ...fields,
  };
}
