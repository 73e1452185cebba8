import { redactedIdentity } from "../../git/commit-identity.js";
import { commitWork } from "../../git/commit-work.js";
import { git, gitMessage, worktreeStatus } from "../../git/worktree.js";
import { operationLeftOpen, WorktreeLinkError } from "../../git/worktree-link.js";
import { shellCommand } from "../../hint/shell-quote.js";
import { DEFAULT_MAX_FILE_BYTES } from "../../planner/plan.js";
import { formatSize } from "../../schema/size.js";
import { commitMessage, isCommitOf } from "../commit-message.js";
import { keptOutOfCommits } from "../copy-files.js";
import { filesTooLarge } from "../large-files.js";
import {
  listSecretFiles,
  mergeSecretFiles,
  stagedFilesWithSecrets,
  worktreeFilesWithSecrets,
} from "../secret-files.js";
import { repairOwnWorktreeLink } from "../worktree-link-check.js";
import type { StepContext, StepOutcome } from "./context.js";

/**
 * Commits what the agent changed on the workspace branch, leaving out copied files and the
 * `.context/` folder (and committing nothing when a file is too large or holds a secret the run
 * knows), and measures the new commit against its parent and the branch against its
 * start point. The commit lands on the workspace branch or nowhere. With nothing new to commit,
 * the branch's newest commit stays the workspace's (the agent may have committed by itself).
 */
export async function commitStep(ctx: StepContext): Promise<StepOutcome> {
  const { workspace } = ctx;
  const state = ctx.state();
  try {
    // The check runs before this step, on exactly the work committed here, so its verdict is
    // known and goes into the commit itself. Committing after the check (rather than amending
    // the commit afterwards) means conductor never rewrites a commit, and a failed check's
    // work is still kept, marked `Conductor-Check: failed`.
    const message = commitMessage({
      taskId: workspace.taskId,
      workspace: workspace.name,
      runId: ctx.paths.runId,
      // Redacted before the subject is cut, so no part of a secret is left at the cut.
      instructions: ctx.redact(ctx.prompt),
      check: state.check ?? "none",
    });
    const exclude = keptOutOfCommits(state.copied, state.seed?.folders);
    const limit = ctx.plan.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    // Without a check script, nothing touched the worktree since the agent step's verification
    // saw HEAD on the branch: git is not asked again. The status is read here, once for the size
    // check and for what to unstage, after the slot went to the next workspace.
    const head = workspace.scripts.check === undefined ? ctx.headAfterAgent : undefined;
    ctx.headAfterAgent = undefined;
    // The check ran the workspace's code, and a resumed run cannot tell what ran before: the
    // worktree's link to the repository is looked at again, or the commit could land in a
    // repository the worktree's .git was pointed at.
    if (head === undefined && (workspace.scripts.check !== undefined || ctx.cutOff)) {
      const repairs = await repairOwnWorktreeLink(ctx);
      if (repairs.length > 0) {
        const why =
          workspace.scripts.check === undefined
            ? "found before the commit of a resumed run"
            : "found before the commit: the check script runs the workspace's code";
        const message = `${repairs.join("; ")} (${why}); nothing was committed`;
        return { status: "failed", failure: { reason: "integrity", step: "commit", message } };
      }
    }
    const status = await worktreeStatus(workspace.path);
    const guard = ctx.commitGuard();
    const staged = await stagedFilesWithSecrets(workspace.path, status, exclude, limit, guard);
    const onDisk = await filesTooLarge(workspace.path, exclude, limit, status);
    const large = [
      ...onDisk,
      ...staged.tooLarge.filter((entry) => !onDisk.some((found) => found.file === entry.file)),
    ];
    if (large.length > 0) {
      const list = large.map((entry) => `${entry.file} (${formatSize(entry.bytes)})`).join(", ");
      return {
        status: "failed",
        failure: {
          reason: "integrity",
          step: "commit",
          message: `${list} ${large.length === 1 ? "is" : "are"} larger than workspaces.max_file_size (${formatSize(limit)}); nothing was committed. Remove ${large.length === 1 ? "it" : "them"} from the worktree, gitignore ${large.length === 1 ? "it" : "them"}, or raise workspaces.max_file_size`,
        },
      };
    }
    // Like the size limit, a secret fails the whole commit, not just that file's part: the rest
    // alone is not the work the check passed (code that reads the file left out, say), and the
    // file is part of the work once the secret is out of it.
    const withSecrets = mergeSecretFiles(
      worktreeFilesWithSecrets(workspace.path, status, exclude, limit, guard),
      staged.secrets,
    );
    if (withSecrets.length > 0) {
      const one = withSecrets.length === 1;
      const list = listSecretFiles(withSecrets, (text) => ctx.redact(text));
      return {
        status: "failed",
        failure: {
          reason: "integrity",
          step: "commit",
          message: `${list} ${one ? "holds a secret" : "hold secrets"}; nothing was committed. Take the secret out of ${one ? "it" : "them"} (${one ? "it is" : "they are"} still in the worktree): conductor commits no file that holds a known secret`,
        },
      };
    }
    // `git commit` would finish what the agent started and left open: a merge's other side would
    // reach the branch without the checks the agent's own commits went through, a cherry-pick's
    // commit would carry the author the agent gave the picked one.
    const open = operationLeftOpen((await ctx.checkoutHook.find()).commonDir, workspace.path);
    if (open !== undefined) {
      const message = `a ${open} was left unfinished in the worktree; committing would finish it${open === "merge" ? " and bring the merged history onto the branch unchecked" : " under the picked commit's author"}, so nothing was committed. Finish or abort it there (\`${shellCommand(["git", "-C", workspace.path, open, "--abort"])}\`)`;
      return { status: "failed", failure: { reason: "integrity", step: "commit", message } };
    }
    const committed = await commitWork(workspace.path, {
      message,
      exclude,
      from: state.startCommit ?? "HEAD",
      branch: workspace.branch,
      head,
      status,
      identity: redactedIdentity(await ctx.commitIdentity, ctx.redact),
    });
    if ("headElsewhere" in committed) {
      return {
        status: "failed",
        failure: {
          reason: "integrity",
          step: "commit",
          message: `the worktree is on ${committed.headElsewhere}, not on ${workspace.branch}; nothing was committed`,
        },
      };
    }
    let commit = committed.commit;
    // A conductor killed between committing and recording it finds nothing left to commit on
    // resume: the commit it made is the branch's last one, recognised by its trailers.
    if (commit === undefined && ctx.cutOff) {
      commit = await unrecordedCommit(ctx, state.startCommit);
    }
    const created = commit !== undefined;
    ctx.refLedger.committedBranch(`refs/heads/${workspace.branch}`, committed.head);
    // Nothing new: the branch still ends in its earlier work, if it holds any.
    commit ??= committed.head === state.startCommit ? undefined : committed.head;
    return {
      status: "succeeded",
      result: {
        step: "commit",
        commit,
        created,
        diff: committed.diff,
        ...(committed.commitDiff === undefined ? {} : { commitDiff: committed.commitDiff }),
      },
    };
  } catch (error) {
    if (error instanceof WorktreeLinkError) {
      const message = `${error.message}; nothing was committed`;
      return { status: "failed", failure: { reason: "integrity", step: "commit", message } };
    }
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
  ctx: StepContext,
  startCommit: string | undefined,
): Promise<string | undefined> {
  const [head = "", ...body] = (
    await git(ctx.workspace.path, ["log", "-1", "--format=%H%n%B", "HEAD"])
  ).split("\n");
  return head !== startCommit && isCommitOf(body.join("\n"), ctx.paths.runId, ctx.workspace.name)
    ? head
    : undefined;
}
