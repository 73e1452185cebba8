import { readFile } from "node:fs/promises";
import path from "node:path";
import { reviewerFor } from "../agents/reviewers.js";
import { agentFailure } from "../executor/failure.js";
import type { RunRecorder } from "../executor/recorder.js";
import { type RunPaths, writeFileAtomic } from "../executor/run-store.js";
import type { ReviewFailure, ReviewState } from "../executor/types.js";
import { workspaceEnv } from "../executor/workspace-runner.js";
import { runGit } from "../git/run-git.js";
import { gitMessage } from "../git/worktree.js";
import { repairLinkOfRepository } from "../git/worktree-link.js";
import {
  changedFiles,
  restoreWorktree,
  snapshotChanges,
  snapshotWorktree,
  type WorktreeSnapshot,
} from "../git/worktree-snapshot.js";
import type { Plan, Workspace } from "../planner/types.js";
import type { KnownSecrets } from "../secrets/known-secrets.js";
import { monotonicMs } from "../timers/monotonic.js";
import { type ParsedReview, parseReviewOutput, reviewFromJson } from "./findings.js";
import { reviewPrompt } from "./prompt.js";
import {
  type RecordFacts,
  type ReviewRecord,
  renderReviewMarkdown,
  reviewRecord,
  skippedRecord,
} from "./record.js";

/** What reviewing a workspace of a run needs: the run's plan, folder, recorder and secrets. */
export interface ReviewContext {
  plan: Plan;
  paths: RunPaths;
  recorder: RunRecorder;
  secrets: KnownSecrets;
}

/**
 * Reviews one workspace: a second session of its agent kind reads the changes since the
 * workspace's start point and answers with findings and a verdict, never editing. What it
 * changed anyway (files, the index, HEAD, the branch) is put back and the review fails. The
 * review is recorded as `review.started`/`review.finished` events and in `review.json` and
 * `review.md` beside the workspace's logs. A branch with no changes is not reviewed (skipped).
 * Never throws for the reviewer's failures; returns the review as recorded.
 */
export async function reviewWorkspace(
  ctx: ReviewContext,
  workspace: Workspace,
  signal: AbortSignal,
): Promise<ReviewState> {
  const state = ctx.recorder.state.workspaces[workspace.name];
  const base = state?.startCommit;
  if (state === undefined || base === undefined) {
    throw new Error(
      `internal error: workspace ${workspace.name} has no start commit to review against`,
    );
  }
  const reviewer = workspace.agent.kind;
  const started = monotonicMs();
  // A review that fails before the worktree is read is still recorded as started, then failed.
  const failBeforeReading = (failure: ReviewFailure) => {
    ctx.recorder.emit({
      type: "review.started",
      workspace: workspace.name,
      reviewer,
      base,
      head: undefined,
      pid: process.pid,
    });
    return finish(ctx, workspace, started, undefined, failure);
  };
  let before: WorktreeSnapshot;
  let changed: Set<string>;
  let instructions: string | undefined;
  try {
    instructions = await reviewInstructions(ctx.plan);
  } catch (error) {
    return failBeforeReading({
      reason: "instructions",
      message: (error as Error).message,
    });
  }
  try {
    before = await snapshotWorktree(workspace.path);
    changed = await changedSinceBase(workspace.path, base);
  } catch (error) {
    return failBeforeReading({
      reason: "git-error",
      message: `could not read the worktree before the review: ${gitMessage(error)}`,
    });
  }
  const facts: RecordFacts = {
    runId: ctx.paths.runId,
    workspace: workspace.name,
    reviewer,
    base,
    head: before.head,
    reviewedAt: "",
    changedFiles: changed,
  };
  ctx.recorder.emit({
    type: "review.started",
    workspace: workspace.name,
    reviewer,
    base,
    head: before.head,
    pid: process.pid,
  });
  if (changed.size === 0) {
    saveRecord(ctx, skippedRecord({ ...facts, reviewedAt: new Date().toISOString() }));
    return emitFinished(ctx, workspace.name, started, {
      status: "skipped",
      head: before.head,
    });
  }

  const logFile = reviewLogFile(ctx.paths, workspace.name);
  const prompt = reviewPrompt(base, instructions);
  const result = await reviewerFor(reviewer).review({
    cwd: workspace.path,
    settings: workspace.agent,
    env: {
      ...workspaceEnv(workspace, ctx.paths.runId, state.port),
      CONDUCTOR_REVIEW_BASE: base,
      CONDUCTOR_REVIEW_HEAD: before.head,
      CONDUCTOR_REVIEW_PROMPT: prompt,
      CONDUCTOR_REVIEW_PROMPT_FILE: savePrompt(ctx, workspace.name, prompt),
      ...(instructions === undefined ? {} : { CONDUCTOR_REVIEW_INSTRUCTIONS: instructions }),
    },
    signal,
    logFile,
    redactor: ctx.secrets.redactor,
    base,
    instructions,
    prompt,
    onActivity: () => {},
  });

  // The reviewer may have pointed the worktree's .git elsewhere: put back before git runs there.
  let relinked: string[];
  try {
    relinked = await repairLinkOfRepository(
      ctx.plan.repo.root,
      workspace.path,
      path.dirname(logFile),
    );
  } catch (error) {
    const message = `could not check what the reviewer did: ${(error as Error).message}`;
    return finish(ctx, workspace, started, undefined, { reason: "git-error", message });
  }
  const edited = withRelinked(await putBack(workspace.path, before, logFile), relinked, logFile);
  const agentFailed = agentFailure(result.outcome, logFile);
  let parsed: ParsedReview | undefined;
  let failure: ReviewFailure | undefined = edited;
  if (failure === undefined && agentFailed !== undefined) {
    failure =
      agentFailed.reason === "cancelled"
        ? { reason: "cancelled", message: "the review was cancelled" }
        : {
            reason: "agent-error",
            message: `the reviewer failed: ${agentFailed.message}`,
            logPath: logFile,
          };
  }
  if (agentFailed === undefined) {
    parsed =
      result.structured === undefined
        ? parseReviewOutput(result.output ?? "", { worktree: workspace.path })
        : reviewFromJson(result.structured, { worktree: workspace.path });
    if (failure === undefined && parsed.form === "unparsed") {
      failure = {
        reason: "malformed",
        message: `the reviewer's answer is not a review (${parsed.problems.join("; ")}); it is kept in review.md`,
        logPath: logFile,
      };
    }
  }
  return finish(ctx, workspace, started, { facts, parsed }, failure);
}

/** The log of a workspace's reviewer, beside its other logs. */
export function reviewLogFile(paths: RunPaths, workspace: string): string {
  return path.join(paths.workspaceDir(workspace), "review.log");
}

/** `review.md` of a workspace. */
export function reviewMarkdownFile(paths: RunPaths, workspace: string): string {
  return path.join(paths.workspaceDir(workspace), "review.md");
}

async function finish(
  ctx: ReviewContext,
  workspace: Workspace,
  started: number,
  answer: { facts: RecordFacts; parsed: ParsedReview | undefined } | undefined,
  failure: ReviewFailure | undefined,
): Promise<ReviewState> {
  let record: ReviewRecord | undefined;
  if (answer !== undefined) {
    record = reviewRecord(
      { ...answer.facts, reviewedAt: new Date().toISOString() },
      answer.parsed,
      failure,
    );
    saveRecord(ctx, record);
  }
  return emitFinished(ctx, workspace.name, started, {
    status: failure === undefined ? "completed" : "failed",
    ...(record === undefined ? {} : { head: record.head }),
    ...(record === undefined || failure !== undefined
      ? {}
      : { verdict: record.verdict, counts: record.counts }),
    ...(failure === undefined ? {} : { failure }),
  });
}

function emitFinished(
  ctx: ReviewContext,
  name: string,
  started: number,
  outcome: {
    status: "completed" | "failed" | "skipped";
    head?: string;
    verdict?: ReviewRecord["verdict"];
    counts?: ReviewRecord["counts"];
    failure?: ReviewFailure;
  },
): ReviewState {
  ctx.recorder.emit({
    type: "review.finished",
    workspace: name,
    durationMs: Math.round(monotonicMs() - started),
    ...outcome,
  });
  const review = ctx.recorder.state.workspaces[name]?.review;
  if (review === undefined) throw new Error(`internal error: no review recorded for ${name}`);
  return review;
}

/** Writes review.json and review.md, with every known secret taken out. */
function saveRecord(ctx: ReviewContext, record: ReviewRecord): void {
  const dir = ctx.paths.workspaceDir(record.workspace);
  writeFileAtomic(
    path.join(dir, "review.json"),
    ctx.secrets.redact(`${JSON.stringify(record, null, 2)}\n`),
  );
  writeFileAtomic(
    reviewMarkdownFile(ctx.paths, record.workspace),
    ctx.secrets.redact(renderReviewMarkdown(record)),
  );
}

/** The review request, saved for command reviewers (secrets taken out, like prompt.md). */
function savePrompt(ctx: ReviewContext, name: string, prompt: string): string {
  const file = path.join(ctx.paths.workspaceDir(name), "review-prompt.md");
  writeFileAtomic(file, ctx.secrets.redact(prompt));
  return file;
}

/**
 * Files the workspace changes against its start point: committed and uncommitted, and
 * untracked files git sees.
 */
async function changedSinceBase(worktree: string, base: string): Promise<Set<string>> {
  const tracked = await runGit(worktree, ["diff", "--name-only", "-z", base, "--"]);
  const untracked = await runGit(worktree, ["ls-files", "--others", "--exclude-standard", "-z"]);
  return new Set([...tracked.split("\0"), ...untracked.split("\0")].filter(Boolean));
}

/**
 * Compares the worktree with its snapshot from before the review; anything the reviewer changed
 * is put back, and the review fails saying what. Undefined when it changed nothing.
 */
async function putBack(
  worktree: string,
  before: WorktreeSnapshot,
  logFile: string,
): Promise<ReviewFailure | undefined> {
  try {
    const after = await snapshotWorktree(worktree);
    const changes = snapshotChanges(before, after);
    if (changes.length === 0) return undefined;
    const paths = await changedFiles(worktree, before, after);
    await restoreWorktree(worktree, before, after);
    const named =
      paths.length === 0
        ? ""
        : ` (${paths.slice(0, 5).join(", ")}${paths.length > 5 ? ", …" : ""})`;
    return {
      reason: "edited",
      message: `the reviewer changed the workspace: ${changes.join(", ")}${named}; conductor put everything back`,
      paths,
      refs:
        before.head === after.head && before.headRef === after.headRef
          ? []
          : [before.headRef || "HEAD"],
      logPath: logFile,
    };
  } catch (error) {
    return {
      reason: "git-error",
      message: `could not check or put back what the reviewer did: ${gitMessage(error)}`,
    };
  }
}

/** The review's failure, with the worktree links the reviewer changed (and conductor put back). */
function withRelinked(
  edited: ReviewFailure | undefined,
  relinked: readonly string[],
  logFile: string,
): ReviewFailure | undefined {
  if (relinked.length === 0) return edited;
  const message = relinked.join("; ").replaceAll("the agent pointed", "the reviewer pointed");
  if (edited === undefined)
    return { reason: "edited", message, paths: [], refs: [], logPath: logFile };
  return { ...edited, message: `${message}; ${edited.message}` };
}

/** The repository's review guidance: `review.instructions`, then `review.instructions_file`. */
async function reviewInstructions(plan: Plan): Promise<string | undefined> {
  const settings = plan.review;
  const parts: string[] = [];
  if (settings?.instructions !== undefined) parts.push(settings.instructions);
  if (settings?.instructionsFile !== undefined) {
    try {
      parts.push(await readFile(path.join(plan.repo.root, settings.instructionsFile), "utf8"));
    } catch (error) {
      throw new Error(
        `review.instructions_file ${settings.instructionsFile} cannot be read: ${(error as Error).message}`,
      );
    }
  }
  const text = parts.join("\n\n").trim();
  return text === "" ? undefined : text;
}

/**
 * {@link reviewWorkspace} as the run's after-success step (`review: auto`): a review that
 * cannot even record its outcome is recorded as failed, never thrown into the scheduler.
 */
export async function reviewAfterSuccess(
  ctx: ReviewContext,
  workspace: Workspace,
  signal: AbortSignal,
): Promise<void> {
  try {
    await reviewWorkspace(ctx, workspace, signal);
  } catch (error) {
    ctx.recorder.emit({
      type: "review.finished",
      workspace: workspace.name,
      status: "failed",
      durationMs: 0,
      failure: { reason: "io-error", message: `the review failed: ${(error as Error).message}` },
    });
  }
}
