import { type GhRun, runGh, runGhJson } from "./github.js";

/** How one CI check or commit status of a pull request stands. */
export type StatusOutcome = "pass" | "fail" | "pending" | "skipped";

/** One entry of a pull request's `statusCheckRollup` (a check run or a commit status). */
export interface StatusCheck {
  name: string;
  outcome: StatusOutcome;
  url: string | undefined;
}

/** What `gh pr view --json` says about a branch's pull request. */
export interface PullRequestFacts {
  number: number;
  url: string;
  title: string;
  state: "OPEN" | "CLOSED" | "MERGED";
  isDraft: boolean;
  /** `APPROVED`, `CHANGES_REQUESTED`, `REVIEW_REQUIRED`, or "" when no review is required. */
  reviewDecision: string;
  /** GitHub's merge state: `CLEAN`, `BEHIND`, `BLOCKED`, `DIRTY`, `UNSTABLE`, `UNKNOWN`… */
  mergeStateStatus: string;
  headRefOid: string;
  baseRefName: string;
  /** The branch on GitHub the pull request is from. */
  headRefName: string;
  /** Whether that branch lives in a fork, not in the repository the pull request is on. */
  isCrossRepository: boolean;
  checks: StatusCheck[];
}

/** The `--json` fields {@link findPullRequest} asks for (all exist in gh 2.23). */
export const PULL_REQUEST_FIELDS = [
  "number",
  "url",
  "title",
  "state",
  "isDraft",
  "reviewDecision",
  "mergeStateStatus",
  "headRefOid",
  "baseRefName",
  "headRefName",
  "isCrossRepository",
  "statusCheckRollup",
] as const;

/** A pull request, none for the branch, or gh's failure. */
export type PullRequestLookup =
  | { found: true; pr: PullRequestFacts }
  | { found: false }
  | { found: "error"; message: string };

/**
 * The pull request `gh pr view <selector>` finds: by number, or the newest one (open or not)
 * whose head is the branch. gh's "no pull requests found" is an answer, not an error.
 */
export async function findPullRequest(
  gh: string,
  branch: string,
  run: GhRun,
): Promise<PullRequestLookup> {
  const outcome = await runGhJson(
    gh,
    ["pr", "view", branch, "--json", PULL_REQUEST_FIELDS.join(",")],
    run,
  );
  if (!outcome.ok) {
    return /no (?:pull requests|open pull requests) found/i.test(outcome.stderr)
      ? { found: false }
      : { found: "error", message: outcome.message };
  }
  return { found: true, pr: parsePullRequest(outcome.value) };
}

/**
 * How `gh pr view` finds a workspace's pull request: the one it works on (`pr:`) by number, else
 * by the branch it is pushed to (the upstream of a `branch:` task, or its own branch).
 */
export function pullRequestSelector(workspace: {
  branch: string;
  pullRequest?: number | undefined;
  startPoint: { kind: string; upstream?: { branch: string } | undefined };
}): string {
  if (workspace.pullRequest !== undefined) return String(workspace.pullRequest);
  if (workspace.startPoint.kind === "branch" && workspace.startPoint.upstream !== undefined) {
    return workspace.startPoint.upstream.branch;
  }
  return workspace.branch;
}

/** Reads gh's `--json` pull request, tolerating absent fields (older or newer gh). */
export function parsePullRequest(value: unknown): PullRequestFacts {
  const record = asRecord(value);
  const state = String(record.state ?? "OPEN").toUpperCase();
  return {
    number: Number(record.number ?? 0),
    url: String(record.url ?? ""),
    title: String(record.title ?? ""),
    state: state === "MERGED" || state === "CLOSED" ? state : "OPEN",
    isDraft: record.isDraft === true,
    reviewDecision: String(record.reviewDecision ?? ""),
    mergeStateStatus: String(record.mergeStateStatus ?? ""),
    headRefOid: String(record.headRefOid ?? ""),
    baseRefName: String(record.baseRefName ?? ""),
    headRefName: String(record.headRefName ?? ""),
    isCrossRepository: record.isCrossRepository === true,
    checks: (Array.isArray(record.statusCheckRollup) ? record.statusCheckRollup : []).map((entry) =>
      statusCheck(asRecord(entry)),
    ),
  };
}

/**
 * One rollup entry: a `CheckRun` (status and conclusion) or a `StatusContext` (state). A run
 * that is not completed is pending whatever its conclusion says.
 */
function statusCheck(entry: Record<string, unknown>): StatusCheck {
  const url = entry.detailsUrl ?? entry.targetUrl;
  const base = { url: typeof url === "string" && url !== "" ? url : undefined };
  if (entry.__typename === "StatusContext" || (entry.context !== undefined && !entry.name)) {
    const state = String(entry.state ?? "").toUpperCase();
    const outcome: StatusOutcome =
      state === "SUCCESS" ? "pass" : state === "FAILURE" || state === "ERROR" ? "fail" : "pending";
    return { name: String(entry.context ?? "status"), outcome, ...base };
  }
  const name = String(entry.name ?? "check");
  const status = String(entry.status ?? "").toUpperCase();
  const conclusion = String(entry.conclusion ?? "").toUpperCase();
  if (status !== "COMPLETED") return { name, outcome: "pending", ...base };
  const outcome: StatusOutcome =
    conclusion === "SUCCESS"
      ? "pass"
      : conclusion === "NEUTRAL" || conclusion === "SKIPPED"
        ? "skipped"
        : "fail";
  return { name, outcome, ...base };
}

/** An unresolved conversation on a pull request's diff. */
export interface ReviewThreadFacts {
  path: string;
  line: number | undefined;
  author: string;
  body: string;
  outdated: boolean;
}

/** The latest state of one deployment of the pull request's head commit. */
export interface DeploymentFacts {
  environment: string;
  /** GitHub's deployment state: `ACTIVE`, `SUCCESS`, `FAILURE`, `ERROR`, `PENDING`, … */
  state: string;
  url: string | undefined;
}

/** What a pull request's conversation and deployments say, through `gh api graphql`. */
export interface ReviewActivity {
  unresolved: ReviewThreadFacts[];
  deployments: DeploymentFacts[];
}

/** The GraphQL query: review threads of the pull request and deployments of its head commit. */
export const REVIEW_ACTIVITY_QUERY = `query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100) {
        totalCount
        nodes { isResolved isOutdated path line comments(first: 1) { nodes { author { login } body url } } }
      }
      commits(last: 1) {
        nodes { commit { deployments(last: 20) { nodes { environment state latestStatus { state environmentUrl } } } } }
      }
    }
  }
}`;

/**
 * Unresolved review threads and deployments of `pr`, by one `gh api graphql` call. The owner
 * and repository come from the pull request's URL, so a fork's remote names do not matter.
 */
export async function reviewActivity(
  gh: string,
  pr: PullRequestFacts,
  run: GhRun,
): Promise<{ ok: true; activity: ReviewActivity } | { ok: false; message: string }> {
  const where = /^https?:\/\/[^/]+\/([^/]+)\/([^/]+)\/pull\/\d+/.exec(pr.url);
  if (where === null) return { ok: false, message: `cannot read a repository from ${pr.url}` };
  const outcome = await runGhJson(
    gh,
    [
      "api",
      "graphql",
      "-f",
      `query=${REVIEW_ACTIVITY_QUERY}`,
      "-f",
      `owner=${where[1]}`,
      "-f",
      `name=${where[2]}`,
      "-F",
      `number=${pr.number}`,
    ],
    run,
  );
  if (!outcome.ok) return outcome;
  const pull = asRecord(asRecord(asRecord(asRecord(outcome.value).data).repository).pullRequest);
  const threads = nodes(pull.reviewThreads).map(asRecord);
  const unresolved = threads
    .filter((thread) => thread.isResolved !== true)
    .map((thread) => {
      const first = asRecord(nodes(thread.comments)[0]);
      return {
        path: String(thread.path ?? ""),
        line: typeof thread.line === "number" ? thread.line : undefined,
        author: String(asRecord(first.author).login ?? "someone"),
        body: String(first.body ?? ""),
        outdated: thread.isOutdated === true,
      };
    });
  const head = asRecord(asRecord(nodes(pull.commits).at(-1)).commit);
  const latest = new Map<string, DeploymentFacts>();
  // GitHub lists deployments oldest first: the last one per environment is what is live.
  for (const node of nodes(head.deployments).map(asRecord)) {
    const status = asRecord(node.latestStatus);
    const environment = String(node.environment ?? "deployment");
    const url = status.environmentUrl;
    latest.set(environment, {
      environment,
      state: String(status.state ?? node.state ?? "").toUpperCase(),
      url: typeof url === "string" && url !== "" ? url : undefined,
    });
  }
  return { ok: true, activity: { unresolved, deployments: [...latest.values()] } };
}

/** Replaces an open pull request's title and body (`gh pr edit --body-file`). */
export async function editPullRequest(
  gh: string,
  number: number,
  change: { title: string; bodyFile: string },
  run: GhRun,
): Promise<GhDone> {
  return ghAction(
    gh,
    ["pr", "edit", String(number), "--title", change.title, "--body-file", change.bodyFile],
    run,
  );
}

/** How GitHub lands a pull request (`gh pr merge --merge | --squash`). */
export type GitHubMergeMethod = "merge" | "squash";

/**
 * Merges a pull request on GitHub, only if its head is still `head`
 * (`--match-head-commit`): a commit pushed by someone else meanwhile is never merged unseen,
 * nor lost. The branch is left alone; conductor archives the workspace itself.
 */
export async function mergePullRequest(
  gh: string,
  number: number,
  options: { method: GitHubMergeMethod; head: string },
  run: GhRun,
): Promise<GhDone> {
  return ghAction(
    gh,
    ["pr", "merge", String(number), `--${options.method}`, "--match-head-commit", options.head],
    run,
  );
}

/** Whether a `gh` call that changes something on GitHub did it, or why not. */
export type GhDone = { ok: true } | { ok: false; message: string };

/** Runs a `gh` call whose output nobody needs: only whether it worked counts. */
async function ghAction(gh: string, args: readonly string[], run: GhRun): Promise<GhDone> {
  const outcome = await runGh(gh, args, run);
  return outcome.ok ? { ok: true } : { ok: false, message: outcome.message };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function nodes(connection: unknown): unknown[] {
  const list = asRecord(connection).nodes;
  return Array.isArray(list) ? list : [];
}
