import path from "node:path";
import { agentFor } from "../agents/index.js";
import { InterruptedError, OperationError, UsageError } from "../errors.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { RunPaths } from "../executor/run-store.js";
import { guardWorktreeLink, worktreeOf } from "../executor/worktree-link-check.js";
import { stripAnsi } from "../report/format.js";
import { pullRequestTitle } from "./pull-request.js";
import { scriptEnv, scriptRedactor } from "./workspace-process.js";

/** A pull request's title and body as the agent drafted them. */
export interface DescribedPullRequest {
  title: string;
  body: string;
}

/** The agents that can take a read-only turn; the command agent cannot be held to one. */
export function canDescribe(found: FoundWorkspace): boolean {
  return found.workspace.agent.kind !== "command";
}

/** Refuses `--describe` up front for workspaces whose agent cannot take a read-only turn. */
export function assertCanDescribe(found: readonly FoundWorkspace[]): void {
  const refused = found.filter((entry) => !canDescribe(entry)).map((entry) => entry.workspace.name);
  if (refused.length > 0) {
    throw new UsageError(
      `--describe needs a codex or claude agent for a read-only turn; ${refused.join(", ")} ${refused.length === 1 ? "uses" : "use"} the command agent`,
      { hint: "Leave out --describe: conductor writes the description from the run itself." },
    );
  }
}

/** What the agent is asked: conductor's own draft is its material. */
export function describePrompt(found: FoundWorkspace, draft: string): string {
  const { workspace, state, run } = found;
  const start = state.startCommit ?? run.plan.base.commit;
  return [
    `Write the title and description of a pull request for the work on the branch ${workspace.branch} in this worktree.`,
    `Compare it with its start point: git diff ${start.slice(0, 12)} HEAD. This is a read-only turn: do not change, create or delete any file.`,
    "",
    "Answer with the title alone on the first line, then a blank line, then the description in GitHub Markdown:",
    "what changed and why, how it was checked, and what a reviewer should look at first.",
    "Keep every `Closes #N` line of the material. Here is what conductor recorded:",
    "",
    "<material>",
    draft.trim(),
    "</material>",
  ].join("\n");
}

/**
 * Asks the workspace's agent, in its own session when it has one, for one read-only turn that
 * drafts the pull request. The answer's first line is the title, the rest the body; conductor's
 * footer and any `Closes #N` of its own draft are kept.
 */
export async function describeWithAgent(
  found: FoundWorkspace,
  draft: string,
  signal: AbortSignal,
): Promise<DescribedPullRequest> {
  const { workspace, state, run } = found;
  const paths = new RunPaths(run.plan.repo.root, run.runId);
  const logFile = path.join(paths.workspaceDir(workspace.name), "describe.log");
  const prompt = describePrompt(found, draft);
  const redactor = await scriptRedactor(found);
  // The agent runs git in the worktree: its link to the repository must be git's own.
  await guardWorktreeLink(worktreeOf(found));
  const result = await agentFor(workspace.agent.kind).run({
    cwd: workspace.path,
    prompt,
    settings: { ...workspace.agent, sandbox: "read-only" },
    env: scriptEnv(found, state.port),
    signal,
    logFile,
    redactor,
    resumeSessionId: state.agent.sessionId,
    onActivity: () => {},
  });
  if (signal.aborted) {
    throw new InterruptedError(
      `drafting the description of ${workspace.name} was interrupted; nothing was pushed`,
    );
  }
  const answer = stripAnsi(result.finalMessage ?? "").trim();
  if (result.outcome.status !== "succeeded" || answer === "") {
    const why =
      result.outcome.status !== "succeeded"
        ? "message" in result.outcome
          ? result.outcome.message
          : `it ended ${result.outcome.status}`
        : "it gave no answer";
    throw new OperationError(
      `${workspace.name}: the agent did not draft the description (${why}); nothing was pushed`,
      { hint: `See ${logFile}; leave out --describe to use conductor's own description.` },
    );
  }
  const [first = "", ...rest] = answer.split("\n");
  const title = pullRequestTitle(first.replace(/^\s*(?:#+\s*)?(?:title:\s*)?/i, ""));
  const closing = draft.split("\n").filter((line) => /^Closes #\d+$/.test(line.trim()));
  const footer = draft.split("\n").filter((line) => line.startsWith("<sub>Made with conductor"));
  const body = rest.join("\n").trim();
  const missing = closing.filter((line) => !body.includes(line.trim()));
  return {
    title,
    body: [body, ...(missing.length > 0 ? ["", ...missing] : []), "", "---", ...footer, ""].join(
      "\n",
    ),
  };
}
