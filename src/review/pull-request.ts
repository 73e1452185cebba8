import type { FoundWorkspace } from "../executor/find-workspace.js";
import { describeFailure, stripAnsi } from "../report/format.js";
import type { ParsedReview } from "../reviewing/findings.js";

/** Longest pull request title; GitHub shows about this much in lists. */
const MAX_TITLE_CHARS = 100;

/** The title of a workspace's pull request: the first line of its task's prompt. */
export function pullRequestTitle(prompt: string): string {
  const first =
    stripAnsi(prompt)
      .split("\n")
      .map((line) => line.replace(/^#+\s*/, "").trim())
      .find((line) => line !== "") ?? "";
  if (first === "") return "conductor: changes";
  return first.length <= MAX_TITLE_CHARS ? first : `${first.slice(0, MAX_TITLE_CHARS - 1)}…`;
}

/** What a pull request's body tells beyond the run record, gathered by the caller. */
export interface PullRequestFacts {
  /** The agent's final message, when it left one. */
  finalMessage: string | undefined;
  /** `git diff --stat` of the branch against its start, one line each (summary last). */
  diffStat: string[];
  /** The review, when the workspace was reviewed. */
  review: ParsedReview | undefined;
  /** The GitHub issue the task came from (`issue:`), closed when the pull request merges. */
  issue: number | undefined;
}

/** Findings listed in a body before the rest is counted. */
const LISTED_FINDINGS = 10;

/**
 * The body of a workspace's pull request: what was asked, what the agent says it did, what
 * changed, whether the check passed and what the review found, so a reviewer can decide from
 * the page alone; `Closes #N` when the task came from an issue.
 */
export function pullRequestBody(found: FoundWorkspace, facts: PullRequestFacts): string {
  const { workspace, state, run } = found;
  const check = workspace.scripts.check;
  const checkLine =
    state.check === "passed"
      ? `✅ passed: \`${check ?? ""}\``
      : state.check === "failed"
        ? `❌ failed: \`${check ?? ""}\`${state.failure ? ` (${describeFailure(state.failure)})` : ""}`
        : check === undefined
          ? "No check script is configured."
          : "The check did not run.";
  const buildsOn =
    workspace.startPoint.kind === "workspace"
      ? [
          `Builds on \`${workspace.startPoint.branch}\` (workspace ${workspace.startPoint.workspace}).`,
          "",
        ]
      : [];
  const message = facts.finalMessage?.trim()
    ? stripAnsi(facts.finalMessage).trim()
    : "_(the agent left no final message)_";
  const changes =
    facts.diffStat.length === 0 ? ["_(no changes)_"] : ["```", ...facts.diffStat, "```"];
  return [
    "### Task",
    "",
    ...buildsOn,
    stripAnsi(workspace.prompt).trim(),
    "",
    "### Agent's final message",
    "",
    message,
    "",
    "### Changes",
    "",
    ...changes,
    "",
    "### Check",
    "",
    checkLine,
    "",
    "### Review",
    "",
    ...reviewLines(facts.review),
    "",
    ...(facts.issue === undefined ? [] : [`Closes #${facts.issue}`, ""]),
    "---",
    `<sub>Made with conductor: workspace \`${workspace.name}\`, run \`${run.runId}\`, plan \`${run.plan.hash.slice(0, 12)}\`.</sub>`,
    "",
  ].join("\n");
}

/** The verdict, the reviewer's explanation and one line per finding, most urgent first. */
function reviewLines(review: ParsedReview | undefined): string[] {
  if (review === undefined) return ["Not reviewed."];
  const verdict =
    review.verdict === "correct"
      ? "✅ The reviewer says the patch is correct."
      : review.verdict === "incorrect"
        ? "❌ The reviewer says the patch is incorrect."
        : "The reviewer gave no verdict.";
  const explanation = stripAnsi(review.explanation).trim();
  const findings = [...review.findings].sort((a, b) => a.priority - b.priority);
  const listed = findings.slice(0, LISTED_FINDINGS).map((finding) => {
    const where =
      finding.file === undefined
        ? ""
        : ` — \`${finding.file}${finding.lines ? `:${finding.lines.start}-${finding.lines.end}` : ""}\``;
    const body = stripAnsi(finding.body).trim().split("\n")[0] ?? "";
    return `- **P${finding.priority}** ${stripAnsi(finding.title).trim()}${where}${body === "" ? "" : `: ${body}`}`;
  });
  const more =
    findings.length > LISTED_FINDINGS ? [`- … and ${findings.length - LISTED_FINDINGS} more`] : [];
  const count =
    findings.length === 0
      ? "No open findings."
      : `${findings.length} open finding${findings.length === 1 ? "" : "s"}:`;
  return [verdict, ...(explanation === "" ? [] : ["", explanation]), "", count, ...listed, ...more];
}

/** A repository on GitHub, as named by a remote URL. */
export interface GitHubRepository {
  owner: string;
  name: string;
}

/**
 * The GitHub repository a remote URL points at (`git@github.com:o/r.git`,
 * `https://github.com/o/r`, `ssh://git@github.com/o/r.git`), or undefined for other hosts.
 */
export function gitHubRepository(url: string): GitHubRepository | undefined {
  const match =
    /^(?:git@github\.com:|(?:ssh|git|https?):\/\/(?:[^@/]+@)?(?:www\.)?github\.com(?::\d+)?\/)([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(
      url.trim(),
    );
  if (match === null) return undefined;
  return { owner: match[1] as string, name: match[2] as string };
}

/** The page where GitHub offers to open a pull request from `branch` into `base`. */
export function compareUrl(repository: GitHubRepository, base: string, branch: string): string {
  const ref = (name: string) => encodeURIComponent(name).replace(/%2F/g, "/");
  return `https://github.com/${repository.owner}/${repository.name}/compare/${ref(base)}...${ref(branch)}?expand=1`;
}
