import path from "node:path";
import { PreflightError } from "../errors.js";
import { configSecrets } from "../executor/run-secrets.js";
import { commonGitDir } from "../git/facts.js";
import type { IssueFacts } from "../planner/types.js";
import type { Config } from "../schema/config.js";
import type { PathIssue } from "../schema/zod-issues.js";
import { KnownSecrets } from "../secrets/known-secrets.js";
import { namedSecretsInEnvironment } from "../secrets/names.js";
import { findGitHubCli, type GhRun, runGhJson } from "./github.js";

/**
 * GitHub issues and pull requests as conductor reads them before planning (`issue:`,
 * `tasks_from`, `conductor import`), through `gh`. Without a usable `gh` these fail with exit 2
 * and the remedy, before anything is created.
 */

/** A ready `gh` and where its calls are logged. */
export interface GitHubReader {
  gh: string;
  run: GhRun;
}

/** Filters of `gh issue list` / `gh pr list`. */
export interface ListFilter {
  label?: string | undefined;
  assignee?: string | undefined;
  limit?: number | undefined;
}

/** A pull request as `conductor import prs` lists it. */
export interface PullRequestSummary {
  number: number;
  title: string;
  headRefName: string;
  updatedAt: string;
}

/**
 * Finds a logged-in `gh`, or throws what to do about it. `why` says what needed GitHub (shown
 * first, so the user knows which part of the config or command asked). gh's output is redacted
 * with the secrets the config's run would know ({@link configSecrets}): an issue's body, or gh's
 * stderr, can quote a value of a copied env file. Without a config, the environment's.
 */
export async function gitHubReader(
  root: string,
  why: string,
  config: Config | undefined,
): Promise<GitHubReader> {
  const gitDir = await commonGitDir(root);
  const secrets =
    config === undefined
      ? new KnownSecrets(namedSecretsInEnvironment(process.env))
      : await configSecrets(root, config);
  // In the git directory, next to conductor's other notes: nothing appears in the checkout.
  const run: GhRun = {
    cwd: root,
    logFile: path.join(gitDir, "conductor", "gh.log"),
    signal: new AbortController().signal,
    redactor: secrets.redactor,
  };
  const cli = await findGitHubCli(run);
  if (cli.status === "missing") {
    throw new PreflightError(`${why} needs the GitHub CLI (gh), which is not installed`, {
      hint: "Install it (apt-get install gh, or https://cli.github.com), then run `gh auth login`.",
    });
  }
  if (cli.status === "unauthenticated") {
    throw new PreflightError(`${why} needs the GitHub CLI (gh), which is not logged in`, {
      hint: "Run `gh auth login`, then try again.",
    });
  }
  return { gh: cli.file, run };
}

const ISSUE_FIELDS = "number,title,body,comments,updatedAt";

/** Reads issues by number; an issue gh cannot show is a problem, keyed by its number. */
export async function readIssues(
  reader: GitHubReader,
  numbers: readonly number[],
): Promise<{ issues: Record<string, IssueFacts>; problems: Map<number, string> }> {
  const issues: Record<string, IssueFacts> = {};
  const problems = new Map<number, string>();
  for (const number of [...new Set(numbers)]) {
    const answer = await runGhJson(
      reader.gh,
      ["issue", "view", String(number), "--json", ISSUE_FIELDS],
      reader.run,
    );
    const issue = answer.ok ? issueFacts(answer.value) : undefined;
    if (issue === undefined) {
      const why = answer.ok ? "gh printed no issue" : firstLine(answer.stderr || answer.message);
      problems.set(number, `issue #${number} could not be read with gh (${why})`);
    } else issues[String(number)] = issue;
  }
  return { issues, problems };
}

/** `gh issue list` with filters: open issues, newest first as gh lists them. */
export async function listIssues(reader: GitHubReader, filter: ListFilter): Promise<IssueFacts[]> {
  const value = await listJson(reader, "issue", filter, ISSUE_FIELDS);
  return value.map(issueFacts).filter((issue) => issue !== undefined);
}

/** `gh pr list` with filters. */
export async function listPullRequests(
  reader: GitHubReader,
  filter: ListFilter,
): Promise<PullRequestSummary[]> {
  const value = await listJson(reader, "pr", filter, "number,title,headRefName,updatedAt");
  return value.flatMap((item) => {
    const record = item as Record<string, unknown>;
    return typeof record.number === "number" && typeof record.title === "string"
      ? [
          {
            number: record.number,
            title: record.title,
            headRefName: String(record.headRefName ?? ""),
            updatedAt: String(record.updatedAt ?? ""),
          },
        ]
      : [];
  });
}

async function listJson(
  reader: GitHubReader,
  kind: "issue" | "pr",
  filter: ListFilter,
  fields: string,
): Promise<unknown[]> {
  const args = [kind, "list", "--json", fields];
  if (filter.label !== undefined) args.push("--label", filter.label);
  if (filter.assignee !== undefined) args.push("--assignee", filter.assignee);
  if (filter.limit !== undefined) args.push("--limit", String(filter.limit));
  const answer = await runGhJson(reader.gh, args, reader.run);
  if (!answer.ok) {
    throw new PreflightError(
      `gh ${kind} list failed: ${firstLine(answer.stderr || answer.message)}`,
      {
        hint: "Check that origin is the GitHub repository and that `gh auth status` passes.",
      },
    );
  }
  return Array.isArray(answer.value) ? answer.value : [];
}

function issueFacts(value: unknown): IssueFacts | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.number !== "number" || typeof record.title !== "string") return undefined;
  const comments = Array.isArray(record.comments) ? record.comments : [];
  return {
    number: record.number,
    title: record.title,
    body: typeof record.body === "string" ? record.body : "",
    comments: comments.map((comment) => {
      const entry = comment as { author?: { login?: unknown }; body?: unknown };
      return {
        author: typeof entry.author?.login === "string" ? entry.author.login : "someone",
        body: typeof entry.body === "string" ? entry.body : "",
      };
    }),
    updatedAt: typeof record.updatedAt === "string" ? record.updatedAt : "",
  };
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? text;
}

/**
 * The issues a config needs before planning: those its tasks name (`issue:`) and those
 * `tasks_from.github_issues` lists. Nothing is asked (and gh is not needed) when it names none.
 */
export async function gatherIssueFacts(
  root: string,
  config: Config,
): Promise<{
  issues: Record<string, IssueFacts>;
  issueList: number[] | undefined;
  problems: PathIssue[];
}> {
  const named = config.tasks.flatMap((task, index) =>
    task.issue === undefined ? [] : [{ number: task.issue, index }],
  );
  const problems: PathIssue[] = [];
  if (named.length === 0 && config.tasksFrom === undefined)
    return { issues: {}, issueList: undefined, problems };
  const first = named[0];
  const why =
    first !== undefined
      ? `tasks[${first.index}].issue (#${first.number})`
      : "tasks_from.github_issues";
  const reader = await gitHubReader(root, why, config);
  const listed =
    config.tasksFrom === undefined
      ? undefined
      : await listIssues(reader, config.tasksFrom.githubIssues);
  const issues: Record<string, IssueFacts> = Object.fromEntries(
    (listed ?? []).map((issue) => [String(issue.number), issue]),
  );
  const missing = named.filter(({ number }) => issues[String(number)] === undefined);
  const read = await readIssues(
    reader,
    missing.map(({ number }) => number),
  );
  Object.assign(issues, read.issues);
  for (const { number, index } of missing) {
    const problem = read.problems.get(number);
    if (problem)
      problems.push({ keyPath: ["tasks", index, "issue"], at: "value", message: problem });
  }
  return { issues, issueList: listed?.map((issue) => issue.number), problems };
}
