import { commitWork } from "../../git/commit-work.js";
import { git, gitMessage } from "../../git/worktree.js";
import { keptOutOfCommits } from "../copy-files.js";
import type { StepContext, StepOutcome } from "./context.js";

/** Longest subject line of conductor's commits (git's convention). */
const SUBJECT_LENGTH = 72;

/** The commit message: task and the prompt's first line, then trailers that tie it to the run. */
export function commitMessage(
  taskId: string,
  workspace: string,
  prompt: string,
  runId: string,
): string {
  const firstLine =
    prompt
      .split("\n")
      .find((line) => line.trim() !== "")
      ?.trim() ?? "";
  let subject = `${taskId}: ${firstLine}`;
  if (subject.length > SUBJECT_LENGTH) subject = `${subject.slice(0, SUBJECT_LENGTH - 1)}…`;
  return `${subject}\n\nConductor-Run: ${runId}\nConductor-Workspace: ${workspace}\n`;
}

/**
 * Commits what the agent changed on the workspace branch, leaving out copied files and the
 * `.context/` folder, and measures the branch against its start point.
 */
export async function commitStep(ctx: StepContext): Promise<StepOutcome> {
  const { workspace } = ctx;
  const state = ctx.state();
  try {
    // Redacted before the subject is cut, so no part of a secret is left at the cut.
    const prompt = ctx.redact(ctx.prompt);
    const message = commitMessage(workspace.taskId, workspace.name, prompt, ctx.paths.runId);
    const committed = await commitWork(workspace.path, {
      message,
      exclude: keptOutOfCommits(state.copied),
      from: state.startCommit ?? "HEAD",
    });
    let commit = committed.commit;
    // A conductor killed between committing and recording it finds nothing left to commit on
    // resume: the commit it made is the branch's last one, recognised by its trailers.
    if (commit === undefined && ctx.cutOff) {
      commit = await unrecordedCommit(workspace.path, message, state.startCommit);
    }
    const diff = committed.diff;
    return { status: "succeeded", result: { step: "commit", commit, diff } };
  } catch (error) {
    return {
      status: "failed",
      failure: {
        reason: "git-error",
        step: "commit",
        message: `commit failed: ${gitMessage(error)}`,
      },
    };
  }
}

/** HEAD when it is a commit with this workspace's run trailers made after the branch started. */
async function unrecordedCommit(
  worktree: string,
  message: string,
  startCommit: string | undefined,
): Promise<string | undefined> {
  const [head = "", ...body] = (
    await git(worktree, ["log", "-1", "--format=%H%n%B", "HEAD"])
  ).split("\n");
  const trailers = message.slice(message.indexOf("\n\n") + 2).trim();
  return head !== startCommit && body.join("\n").includes(trailers) ? head : undefined;
}
