import type { FoundWorkspace } from "../executor/find-workspace.js";
import { describeFailure, stripAnsi } from "../report/format.js";

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

/**
 * The body of a workspace's pull request: the prompt it was given, the agent's final message
 * and the check result, so a reviewer sees what was asked, what the agent says it did and
 * whether the check passed.
 */
export function pullRequestBody(found: FoundWorkspace, finalMessage: string | undefined): string {
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
  const message = finalMessage?.trim()
    ? stripAnsi(finalMessage).trim()
    : "_(the agent left no final message)_";
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
    "### Check",
    "",
    checkLine,
    "",
    "---",
    `<sub>Made with conductor: workspace \`${workspace.name}\`, run \`${run.runId}\`, plan \`${run.plan.hash.slice(0, 12)}\`.</sub>`,
    "",
  ].join("\n");
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
