import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";

/**
 * A scripted GitHub CLI for tests. `installGh` writes an executable `gh` (a small Node script)
 * into a bin folder; each call is answered from a JSON scenario and recorded, so a test checks
 * both what conductor asked and what it did with the answer. Like the real gh 2.23 it refuses an
 * unknown `--json` field and prints only the fields asked for; a call no rule answers fails
 * loudly (exit 1, "gh stand-in: no scenario answers …") and is recorded as unmatched.
 */

/** What one rule answers. `json` is printed as gh prints `--json` output (fields filtered). */
export interface GhAnswer {
  json?: unknown;
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /**
   * A `sh -c` command line run before answering: what GitHub would do meanwhile (e.g. make
   * the merge commit on a local bare "origin" when `pr merge` is called).
   */
  exec?: string;
}

/** One scripted command: which calls it answers, and how. The first matching rule wins. */
export interface GhRule {
  /** Leading words of the call, e.g. `["pr", "view"]`. */
  command: string[];
  /** When set, the positional arguments after `command` must be exactly these. */
  args?: string[];
  /**
   * Flags the call must carry: a value, `true` for a bare flag, or `false` for a flag that
   * must be absent. A repeated flag (`-F a=1 -F b=2`) matches when any of its values does.
   */
  flags?: Record<string, string | boolean>;
  /** How many calls this rule answers before the next matching rule takes over. */
  times?: number;
  answer: GhAnswer;
}

/** The whole script of one test's `gh`. */
export interface GhScenario {
  rules: GhRule[];
}

/** One call the stand-in received. */
export interface GhCall {
  args: string[];
  cwd: string;
  /** Index of the rule that answered, or null when none did. */
  rule: number | null;
  /** Content of the `--body-file` (or `-F` of `pr create/edit`) at the time of the call. */
  body?: string;
  exitCode: number;
}

/** A `gh` on a private PATH. */
export interface GhStandIn {
  /** Folder holding `gh` (unless installed as missing), `node`, `git` and `sh`. */
  bin: string;
  /** A PATH with only that folder: the machine's own gh (if any) is out of reach. */
  path: string;
  /** Every call so far, oldest first. */
  calls(): Promise<GhCall[]>;
  /** Calls no rule answered (a test normally expects none). */
  unmatched(): Promise<GhCall[]>;
  /** Replaces the scenario (e.g. the PR is merged now). */
  setScenario(scenario: GhScenario): Promise<void>;
}

/**
 * Installs the stand-in in `<dir>/bin`. With `scenario` undefined there is no `gh` at all: the
 * PATH then holds only node, git and sh ("gh is not installed").
 */
export async function installGh(dir: string, scenario: GhScenario | undefined): Promise<GhStandIn> {
  const bin = path.join(dir, "bin");
  await mkdir(bin, { recursive: true });
  for (const tool of ["git", "sh"]) {
    const found = (await execa("sh", ["-c", `command -v ${tool}`])).stdout.trim();
    await symlink(found, path.join(bin, tool)).catch(ignoreExisting);
  }
  await symlink(process.execPath, path.join(bin, "node")).catch(ignoreExisting);
  const scenarioFile = path.join(dir, "gh-scenario.json");
  const callsFile = path.join(dir, "gh-calls.jsonl");
  if (scenario !== undefined) {
    await writeFile(scenarioFile, JSON.stringify(scenario, null, 2));
    await writeFile(path.join(bin, "gh"), standInScript(scenarioFile, callsFile), { mode: 0o755 });
  }
  const calls = async (): Promise<GhCall[]> => {
    const text = await readFile(callsFile, "utf8").catch(() => "");
    return text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as GhCall);
  };
  return {
    bin,
    path: bin,
    calls,
    unmatched: async () => (await calls()).filter((call) => call.rule === null),
    setScenario: (next) => writeFile(scenarioFile, JSON.stringify(next, null, 2)),
  };
}

function ignoreExisting(error: NodeJS.ErrnoException): void {
  if (error.code !== "EEXIST") throw error;
}

/** `--json` fields gh 2.23 accepts (as listed by `gh pr view --json nope`). */
export const PR_FIELDS = [
  "additions",
  "assignees",
  "author",
  "baseRefName",
  "body",
  "changedFiles",
  "closed",
  "closedAt",
  "comments",
  "commits",
  "createdAt",
  "deletions",
  "files",
  "headRefName",
  "headRefOid",
  "headRepository",
  "headRepositoryOwner",
  "id",
  "isCrossRepository",
  "isDraft",
  "labels",
  "latestReviews",
  "maintainerCanModify",
  "mergeCommit",
  "mergeStateStatus",
  "mergeable",
  "mergedAt",
  "mergedBy",
  "milestone",
  "number",
  "potentialMergeCommit",
  "projectCards",
  "reactionGroups",
  "reviewDecision",
  "reviewRequests",
  "reviews",
  "state",
  "statusCheckRollup",
  "title",
  "updatedAt",
  "url",
] as const;

/** `--json` fields of `gh issue view/list` in gh 2.23. */
export const ISSUE_FIELDS = [
  "assignees",
  "author",
  "body",
  "closed",
  "closedAt",
  "comments",
  "createdAt",
  "id",
  "labels",
  "milestone",
  "number",
  "projectCards",
  "reactionGroups",
  "state",
  "title",
  "updatedAt",
  "url",
] as const;

/**
 * The executable. Plain CommonJS with Node built-ins only; the scenario is read on every call,
 * so `setScenario` takes effect at once.
 */
function standInScript(scenarioFile: string, callsFile: string): string {
  const config = JSON.stringify({
    scenarioFile,
    callsFile,
    jsonFields: {
      "pr view": PR_FIELDS,
      "pr list": PR_FIELDS,
      "issue view": ISSUE_FIELDS,
      "issue list": ISSUE_FIELDS,
    },
    // Flags that take no value, per command (gh reuses letters: -s is --squash in pr merge,
    // --state in pr list).
    booleans: {
      "pr merge": [
        "-m",
        "--merge",
        "-s",
        "--squash",
        "-r",
        "--rebase",
        "-d",
        "--delete-branch",
        "--auto",
        "--admin",
        "--disable-auto",
      ],
      "pr create": [
        "-d",
        "--draft",
        "-f",
        "--fill",
        "-w",
        "--web",
        "--no-maintainer-edit",
        "--dry-run",
      ],
      "pr list": ["-d", "--draft", "-w", "--web"],
      "issue list": ["-w", "--web"],
      "pr view": ["-c", "--comments", "-w", "--web"],
      "issue view": ["-c", "--comments", "-w", "--web"],
      "pr checks": ["--required", "--watch", "-w", "--web"],
      "auth status": ["-t", "--show-token"],
      api: ["--paginate", "--silent", "-i", "--include", "--verbose"],
    },
  });
  return `#!${process.execPath}
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const C = ${config};
const argv = process.argv.slice(2);
const words = [];
const flags = {};
const key = argv[0] === "api" ? "api" : argv.slice(0, 2).join(" ");
const booleans = new Set([...(C.booleans[key] || []), "--help"]);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg.startsWith("-") && arg !== "-") {
    const eq = arg.indexOf("=");
    let name = arg, value;
    if (arg.startsWith("--") && eq > 0) { name = arg.slice(0, eq); value = arg.slice(eq + 1); }
    else if (booleans.has(arg)) value = true;
    else value = argv[++i];
    (flags[name] = flags[name] || []).push(value);
  } else words.push(arg);
}
const call = { args: argv, cwd: process.cwd(), rule: null, exitCode: 1 };
function finish(code, stdout, stderr) {
  call.exitCode = code;
  fs.appendFileSync(C.callsFile, JSON.stringify(call) + "\\n");
  if (stdout) process.stdout.write(stdout);
  if (stderr) process.stderr.write(stderr);
  process.exit(code);
}
const bodyFlag = flags["--body-file"] || ((key === "pr create" || key === "pr edit") && flags["-F"]);
if (bodyFlag) {
  const file = bodyFlag[bodyFlag.length - 1];
  try { call.body = fs.readFileSync(file === "-" ? 0 : file, "utf8"); } catch (e) { call.body = "<unreadable: " + e.message + ">"; }
}
const scenario = JSON.parse(fs.readFileSync(C.scenarioFile, "utf8"));
const used = {};
for (const line of fs.existsSync(C.callsFile) ? fs.readFileSync(C.callsFile, "utf8").split("\\n") : []) {
  if (line === "") continue;
  const earlier = JSON.parse(line);
  if (earlier.rule !== null) used[earlier.rule] = (used[earlier.rule] || 0) + 1;
}
function matches(rule) {
  const n = rule.command.length;
  if (rule.command.some((word, i) => words[i] !== word)) return false;
  if (rule.args && JSON.stringify(words.slice(n)) !== JSON.stringify(rule.args)) return false;
  for (const [name, want] of Object.entries(rule.flags || {})) {
    const got = flags[name];
    if (want === false) { if (got) return false; continue; }
    if (!got) return false;
    if (want !== true && !got.includes(want)) return false;
  }
  return true;
}
const index = scenario.rules.findIndex((rule, i) => matches(rule) && (rule.times === undefined || (used[i] || 0) < rule.times));
if (index < 0) finish(1, "", "gh stand-in: no scenario answers: gh " + argv.map((a) => JSON.stringify(a)).join(" ") + "\\n");
call.rule = index;
const answer = scenario.rules[index].answer;
const known = C.jsonFields[key];
const asked = flags["--json"] ? String(flags["--json"].at(-1)).split(",").map((f) => f.trim()) : undefined;
if (known && asked) {
  const unknown = asked.find((f) => !known.includes(f));
  if (unknown) finish(1, "", 'Unknown JSON field: "' + unknown + '"\\nAvailable fields:\\n' + known.map((f) => "  " + f).join("\\n") + "\\n");
}
const templated = ["pr view", "pr list", "issue view", "issue list", "api"].includes(key) && flags["-t"];
if (flags["--jq"] || flags["-q"] || flags["--template"] || templated) {
  finish(4, "", "gh stand-in: --jq and --template are not scripted; read the JSON instead\\n");
}
if (answer.exec) {
  try { require("node:child_process").execFileSync("sh", ["-c", answer.exec], { stdio: ["ignore", "ignore", "inherit"] }); }
  catch (e) { finish(5, "", "gh stand-in: the scenario's exec failed: " + e.message + "\\n"); }
}
let stdout = answer.stdout || "";
if (answer.json !== undefined) {
  let value = answer.json;
  if (asked) {
    const pick = (record) => {
      const out = {};
      for (const f of asked) {
        if (!(f in record)) finish(3, "", "gh stand-in: the scenario lacks the field " + f + " asked for by: gh " + argv.join(" ") + "\\n");
        out[f] = record[f];
      }
      return out;
    };
    value = Array.isArray(value) ? value.map(pick) : pick(value);
  }
  stdout += JSON.stringify(value, null, 2) + "\\n";
}
finish(answer.exitCode || 0, stdout, answer.stderr || "");
`;
}

// ---------------------------------------------------------------------------------------------
// Building blocks in the shapes gh documents.

/** `gh auth status`: logged in (exit 0) or not (exit 1, gh 2.23's words). */
export function authStatus(loggedIn: boolean): GhRule {
  return loggedIn
    ? {
        command: ["auth", "status"],
        answer: {
          stderr:
            "github.com\n  ✓ Logged in to github.com as octocat (oauth_token)\n  ✓ Git operations for github.com configured to use https protocol.\n  ✓ Token: *******************\n",
        },
      }
    : {
        command: ["auth", "status"],
        answer: {
          exitCode: 1,
          stderr: "You are not logged into any GitHub hosts. Run gh auth login to authenticate.\n",
        },
      };
}

/** A check run of `statusCheckRollup` (GitHub Actions and other apps). */
export function checkRun(
  name: string,
  conclusion: "SUCCESS" | "FAILURE" | "NEUTRAL" | "CANCELLED" | "SKIPPED" | "TIMED_OUT" | "",
  status: "COMPLETED" | "IN_PROGRESS" | "QUEUED" = conclusion === "" ? "IN_PROGRESS" : "COMPLETED",
): Record<string, unknown> {
  return {
    __typename: "CheckRun",
    name,
    workflowName: "CI",
    status,
    conclusion,
    startedAt: "2026-12-04T10:00:00Z",
    completedAt: status === "COMPLETED" ? "2026-12-04T10:05:00Z" : "0001-01-01T00:00:00Z",
    detailsUrl: `https://github.com/acme/widgets/actions/runs/1/job/${name.length}`,
  };
}

/** A commit status of `statusCheckRollup` (older CI services). */
export function statusContext(
  context: string,
  state: "SUCCESS" | "FAILURE" | "ERROR" | "PENDING" | "EXPECTED",
): Record<string, unknown> {
  return {
    __typename: "StatusContext",
    context,
    state,
    startedAt: "2026-12-04T10:00:00Z",
    targetUrl: `https://ci.example.com/${context}`,
  };
}

/** A pull request with every field gh 2.23 can print; `overrides` set what the test is about. */
export function pullRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const number = (overrides.number as number | undefined) ?? 7;
  const state = (overrides.state as string | undefined) ?? "OPEN";
  return {
    additions: 1,
    assignees: [],
    author: { login: "octocat" },
    baseRefName: "main",
    body: "",
    changedFiles: 1,
    closed: state !== "OPEN",
    closedAt: state === "OPEN" ? null : "2026-12-04T11:00:00Z",
    comments: [],
    commits: [],
    createdAt: "2026-12-04T09:00:00Z",
    deletions: 0,
    files: [],
    headRefName: "conductor/feature",
    headRefOid: "0000000000000000000000000000000000000000",
    headRepository: { id: "R_1", name: "widgets" },
    headRepositoryOwner: { id: "U_1", login: "acme" },
    id: `PR_${number}`,
    isCrossRepository: false,
    isDraft: false,
    labels: [],
    latestReviews: [],
    maintainerCanModify: false,
    mergeCommit: state === "MERGED" ? { oid: "1111111111111111111111111111111111111111" } : null,
    mergeStateStatus: "CLEAN",
    mergeable: "MERGEABLE",
    mergedAt: state === "MERGED" ? "2026-12-04T11:00:00Z" : null,
    mergedBy: state === "MERGED" ? { login: "octocat" } : null,
    milestone: null,
    number,
    potentialMergeCommit: null,
    projectCards: [],
    reactionGroups: [],
    reviewDecision: "",
    reviewRequests: [],
    reviews: [],
    state,
    statusCheckRollup: [],
    title: "Add a feature",
    updatedAt: "2026-12-04T10:00:00Z",
    url: `https://github.com/acme/widgets/pull/${number}`,
    ...overrides,
  };
}

/** `gh pr view <branch> --json …` answering with `pr`, or gh's answer when there is none. */
export function prView(branch: string, pr: Record<string, unknown> | undefined): GhRule {
  return pr === undefined
    ? {
        command: ["pr", "view"],
        args: [branch],
        answer: { exitCode: 1, stderr: `no pull requests found for branch "${branch}"\n` },
      }
    : { command: ["pr", "view"], args: [branch], answer: { json: pr } };
}

/** One review thread of the GraphQL `reviewThreads` connection. */
export function reviewThread(
  file: string,
  line: number,
  body: string,
  options: { resolved?: boolean; outdated?: boolean; author?: string } = {},
): Record<string, unknown> {
  return {
    isResolved: options.resolved ?? false,
    isOutdated: options.outdated ?? false,
    path: file,
    line,
    comments: {
      nodes: [
        {
          author: { login: options.author ?? "reviewer" },
          body,
          url: `https://github.com/acme/widgets/pull/7#discussion_r${line}`,
        },
      ],
    },
  };
}

/** A deployment of the GraphQL `Commit.deployments` connection. */
export function deployment(
  environment: string,
  state:
    | "ACTIVE"
    | "ERROR"
    | "FAILURE"
    | "INACTIVE"
    | "IN_PROGRESS"
    | "PENDING"
    | "QUEUED"
    | "SUCCESS",
): Record<string, unknown> {
  return {
    environment,
    state,
    latestStatus: { state, environmentUrl: `https://${environment}.example.com` },
  };
}

/**
 * `gh api graphql …` answering a pull request's review threads and its head commit's
 * deployments, as GitHub's GraphQL API shapes them.
 */
export function reviewThreadsAndDeployments(
  threads: readonly Record<string, unknown>[],
  deployments: readonly Record<string, unknown>[] = [],
  number = 7,
): GhRule {
  return {
    command: ["api", "graphql"],
    flags: { "-F": `number=${number}` },
    answer: {
      json: {
        data: {
          repository: {
            pullRequest: {
              reviewThreads: { totalCount: threads.length, nodes: threads },
              commits: { nodes: [{ commit: { deployments: { nodes: deployments } } }] },
            },
          },
        },
      },
    },
  };
}

/** An issue with every field gh 2.23 can print. */
export function issue(
  number: number,
  title: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    assignees: [],
    author: { login: "octocat" },
    body: "",
    closed: false,
    closedAt: null,
    comments: [],
    createdAt: "2026-12-01T09:00:00Z",
    id: `I_${number}`,
    labels: [],
    milestone: null,
    number,
    projectCards: [],
    reactionGroups: [],
    state: "OPEN",
    title,
    updatedAt: "2026-12-02T09:00:00Z",
    url: `https://github.com/acme/widgets/issues/${number}`,
    ...overrides,
  };
}

/** A comment of an issue's `comments` field. */
export function issueComment(author: string, body: string): Record<string, unknown> {
  return {
    author: { login: author },
    authorAssociation: "MEMBER",
    body,
    createdAt: "2026-12-03T09:00:00Z",
    includesCreatedEdit: false,
    isMinimized: false,
    minimizedReason: "",
    reactionGroups: [],
  };
}

/** `gh issue view <n> --json …`, or gh's answer for an issue that does not exist. */
export function issueView(number: number, found: Record<string, unknown> | undefined): GhRule {
  return found === undefined
    ? {
        command: ["issue", "view"],
        args: [String(number)],
        answer: {
          exitCode: 1,
          stderr: `GraphQL: Could not resolve to an issue or pull request with the number of ${number}. (repository.issue)\n`,
        },
      }
    : { command: ["issue", "view"], args: [String(number)], answer: { json: found } };
}

/** `gh issue list --json …` (any filters unless `flags` names them). */
export function issueList(
  issues: readonly Record<string, unknown>[],
  flags?: Record<string, string | boolean>,
): GhRule {
  return { command: ["issue", "list"], ...(flags ? { flags } : {}), answer: { json: issues } };
}

/** `gh pr list --json …` (any filters unless `flags` names them). */
export function prList(
  prs: readonly Record<string, unknown>[],
  flags?: Record<string, string | boolean>,
): GhRule {
  return { command: ["pr", "list"], ...(flags ? { flags } : {}), answer: { json: prs } };
}

/** `gh pr create`: prints the new pull request's URL as gh does. */
export function prCreate(url = "https://github.com/acme/widgets/pull/7"): GhRule {
  return {
    command: ["pr", "create"],
    answer: {
      stdout: `${url}\n`,
      stderr: "\nCreating pull request for conductor/feature into main\n\n",
    },
  };
}

/** `gh pr edit <n> --body-file …`: prints the pull request's URL as gh does. */
export function prEdit(number = 7): GhRule {
  return {
    command: ["pr", "edit"],
    args: [String(number)],
    answer: { stdout: `https://github.com/acme/widgets/pull/${number}\n` },
  };
}

/** `gh pr merge <n> --<method>`: gh's confirmation line; `exec` does GitHub's part. */
export function prMerge(
  number: number,
  method: "merge" | "squash" | "rebase",
  exec?: string,
): GhRule {
  const verb = { merge: "Merged", squash: "Squashed and merged", rebase: "Rebased and merged" }[
    method
  ];
  return {
    command: ["pr", "merge"],
    args: [String(number)],
    flags: { [`--${method}`]: true },
    answer: {
      stderr: `✓ ${verb} pull request #${number} (Add a feature)\n`,
      ...(exec === undefined ? {} : { exec }),
    },
  };
}

/** Ready-made scenarios for the situations every GitHub feature must handle. */
export const scenarios = {
  /** gh installed, but `gh auth status` fails. */
  loggedOut: (): GhScenario => ({ rules: [authStatus(false)] }),
  /** Logged in; the branch has no pull request. */
  noPullRequest: (branch: string): GhScenario => ({
    rules: [authStatus(true), prView(branch, undefined)],
  }),
  /** Logged in; an open PR whose CI has one failing and one passing check. */
  failingAndPassingChecks: (branch: string, head: string): GhScenario => ({
    rules: [
      authStatus(true),
      prView(
        branch,
        pullRequest({
          headRefName: branch,
          headRefOid: head,
          reviewDecision: "REVIEW_REQUIRED",
          statusCheckRollup: [checkRun("build", "SUCCESS"), checkRun("test", "FAILURE")],
        }),
      ),
      reviewThreadsAndDeployments([]),
    ],
  }),
  /** Logged in; an open, approved PR with green CI, a deployment and two unresolved threads. */
  unresolvedComments: (branch: string, head: string): GhScenario => ({
    rules: [
      authStatus(true),
      prView(
        branch,
        pullRequest({
          headRefName: branch,
          headRefOid: head,
          reviewDecision: "APPROVED",
          statusCheckRollup: [checkRun("build", "SUCCESS"), statusContext("ci/lint", "SUCCESS")],
        }),
      ),
      reviewThreadsAndDeployments(
        [
          reviewThread("src/app.ts", 12, "Please handle the empty case."),
          reviewThread("src/app.ts", 30, "Typo in the name.", { author: "octocat" }),
          reviewThread("README.md", 3, "Fixed, thanks.", { resolved: true }),
        ],
        [deployment("preview", "ACTIVE")],
      ),
    ],
  }),
  /** Logged in; the branch's PR is merged already. */
  merged: (branch: string, head: string): GhScenario => ({
    rules: [
      authStatus(true),
      prView(
        branch,
        pullRequest({
          headRefName: branch,
          headRefOid: head,
          state: "MERGED",
          reviewDecision: "APPROVED",
          statusCheckRollup: [checkRun("build", "SUCCESS")],
        }),
      ),
      reviewThreadsAndDeployments([]),
    ],
  }),
};
