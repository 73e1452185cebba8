import { mkdirSync, writeFileSync } from "node:fs";
import { appendFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gitMessage } from "../../git/worktree.js";
import { WorktreeLinkError } from "../../git/worktree-link.js";
import { addUsage, NO_USAGE, subtractUsage, type TokenUsage } from "../../usage/usage.js";
import { agentFailure } from "../failure.js";
import { resetKeepingWork } from "../fresh-worktree.js";
import { spentUsage } from "../spending.js";
import type { Failure } from "../types.js";
import { type AgentBaseline, takeBaseline, verifyAgentResult } from "../verify-agent-result.js";
import type { StepContext, StepOutcome } from "./context.js";

/** Environment variables are limited like arguments (128 KiB each on Linux); longer prompts are in the file only. */
const MAX_PROMPT_IN_ENV_BYTES = 100 * 1024;

/** Options of a follow-up turn (`conductor continue`). */
export interface FollowUp {
  prompt: string;
  sessionId: string | undefined;
  /** Tokens the session used so far. */
  priorUsage: TokenUsage | undefined;
}

/**
 * Runs the agent in the worktree. A retried or resumed agent starts from the branch's last commit
 * (the failed try's changes are discarded; its log stays, copied files are put back). A follow-up
 * continues the agent's session on top of the work as it is. Whatever the agent's outcome, the
 * repository is then verified ({@link verifyAgentResult}): a failed verification fails the step.
 */
export async function agentStep(ctx: StepContext, followUp?: FollowUp): Promise<StepOutcome> {
  const { workspace } = ctx;
  // A spent budget starts no new turn; the worktree stays as it is.
  const refused = ctx.budget.refusal(workspace, "agent");
  if (refused !== undefined) return { status: "failed", failure: refused };
  if (ctx.rerun && followUp === undefined) {
    try {
      await startAfresh(ctx);
    } catch (error) {
      // The worktree's link to the repository was changed (by the earlier try's agent, whose
      // check never ran): an integrity failure, not retried.
      if (error instanceof WorktreeLinkError) {
        const message = `${error.message}; nothing was reset`;
        return { status: "failed", failure: { reason: "integrity", step: "agent", message } };
      }
      const message = `could not reset the worktree for a fresh try: ${gitMessage(error)}`;
      return { status: "failed", failure: { reason: "git-error", step: "agent", message } };
    }
  }
  ctx.headAfterAgent = undefined;
  // The look at the repository and the prompt's files do not depend on each other: taken and
  // written at once, on the way from one agent to the next.
  const looked = takeBaseline(ctx).then(
    (baseline) => ({ baseline }),
    (error: unknown) => ({ error }),
  );
  const prompt = ctx.prompt;
  const promptFile = ctx.paths.promptFile(workspace.name);
  // Synchronously: a small file of the run's own folder, where each trip through libuv's thread
  // pool cost more CPU than the write (see src/process/log-file.ts).
  mkdirSync(path.dirname(promptFile), { recursive: true });
  const recorded = ctx.redact(prompt);
  writeFileSync(promptFile, recorded);
  // The agent gets the prompt as written. When prompt.md had secrets taken out, a command agent
  // reads the prompt from a private file that is removed when the step ends.
  const forAgent = recorded === prompt ? undefined : await privatePromptFile(prompt);
  const env: Record<string, string> = {
    ...ctx.env(),
    CONDUCTOR_PROMPT_FILE: forAgent?.file ?? promptFile,
  };
  if (Buffer.byteLength(prompt) <= MAX_PROMPT_IN_ENV_BYTES) env.CONDUCTOR_PROMPT = prompt;
  try {
    return await runAgent(ctx, prompt, env, followUp, await looked);
  } finally {
    await forAgent?.remove();
  }
}

async function runAgent(
  ctx: StepContext,
  prompt: string,
  env: Record<string, string>,
  followUp: FollowUp | undefined,
  looked: { baseline: AgentBaseline } | { error: unknown },
): Promise<StepOutcome> {
  const { workspace } = ctx;
  const logFile = ctx.paths.logFile(workspace.name, "agent");
  if ("error" in looked) {
    const message = `could not read the repository before the agent: ${gitMessage(looked.error)}`;
    return { status: "failed", failure: { reason: "git-error", step: "agent", message } };
  }
  const { baseline } = looked;
  // Budgets count every turn: what earlier turns spent, plus what this one adds to its session.
  const spentBefore = spentUsage(ctx.state()) ?? NO_USAGE;
  const sessionBefore = followUp?.priorUsage ?? NO_USAGE;
  const spentWith = (usage: TokenUsage) =>
    addUsage(spentBefore, subtractUsage(usage, sessionBefore));
  const result = await ctx.agentFor(workspace.agent.kind).run({
    cwd: workspace.path,
    prompt,
    settings: workspace.agent,
    env,
    signal: ctx.signal,
    logFile,
    redactor: ctx.redactor(),
    resumeSessionId: followUp?.sessionId,
    priorUsage: followUp?.priorUsage,
    onActivity: (activity) => {
      if (activity.kind !== "usage") {
        ctx.emit({ type: "agent.activity", workspace: workspace.name, activity });
        return;
      }
      const spent = spentWith(activity.usage);
      ctx.emit({ type: "agent.activity", workspace: workspace.name, activity, spent });
      ctx.budget.check();
    },
  });
  if (result.finalMessage !== undefined) {
    // Decoded from the agent's JSON, where the log's redaction could not see it whole.
    await writeFile(
      ctx.paths.finalMessageFile(workspace.name),
      `${ctx.redact(result.finalMessage).trimEnd()}\n`,
    );
  }
  // A follow-up that failed before the agent reported usage still used the session's earlier
  // tokens: they stay on the record.
  const usage = result.usage ?? followUp?.priorUsage;
  const stepResult = {
    step: "agent" as const,
    ...(result.sessionId === undefined ? {} : { sessionId: result.sessionId }),
    ...(usage === undefined ? {} : { usage }),
    ...(result.usage === undefined ? {} : { spent: spentWith(result.usage) }),
    ...(result.finalMessage === undefined ? {} : { finalMessage: result.finalMessage }),
  };
  const failure = (await verified(ctx, baseline)) ?? agentFailure(result.outcome, logFile);
  return failure
    ? { status: "failed", failure, result: stepResult }
    : { status: "succeeded", result: stepResult };
}

/** A file only this user can read, holding the prompt as written, and how to remove it. */
async function privatePromptFile(
  prompt: string,
): Promise<{ file: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "conductor-prompt-"));
  const file = path.join(dir, "prompt.md");
  await writeFile(file, prompt, { mode: 0o600 });
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The verification's failure, if any; a verification that cannot run fails the step too. */
async function verified(ctx: StepContext, baseline: AgentBaseline): Promise<Failure | undefined> {
  try {
    const verdict = await verifyAgentResult(ctx, baseline);
    // A repair may move HEAD: what was read before it is out of date.
    if (verdict.failure === undefined && verdict.repairs.length === 0)
      ctx.headAfterAgent = verdict.head;
    return verdict.failure;
  } catch (error) {
    return {
      reason: "integrity",
      step: "agent",
      message: `could not verify what the agent did to the repository: ${gitMessage(error)}; nothing was committed`,
      logPath: ctx.paths.logFile(ctx.workspace.name, "agent"),
    };
  }
}

/**
 * Before a retried or resumed agent starts afresh, what the earlier try left uncommitted (an
 * interrupted agent's half-done work, a reviewer's fix) is kept on a ref of its own, and the
 * agent log says where; then the worktree goes back to its branch.
 */
async function startAfresh(ctx: StepContext): Promise<void> {
  const { workspace } = ctx;
  // `tries` already counts the try that is starting; the work is the one before's.
  const tries = ctx.state().tries - 1;
  const ref = `refs/conductor/saved/${ctx.paths.runId}/${workspace.name}/${tries}`;
  const message = `conductor: uncommitted work of ${workspace.name}, try ${tries}`;
  await resetKeepingWork(ctx, { ref, message }, async (saved) => {
    const logFile = ctx.paths.logFile(workspace.name, "agent");
    await mkdir(path.dirname(logFile), { recursive: true });
    await appendFile(
      logFile,
      `\nconductor: the earlier try's uncommitted changes are kept as ${ref} (git show ${saved.slice(0, 10)}); starting afresh\n`,
    );
  });
}
