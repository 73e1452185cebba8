import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { git } from "../../git/worktree.js";
import type { TaskSelection, Workspace } from "../../planner/types.js";
import type { AgentConfig } from "../../schema/config.js";
import { JUDGE_SCHEMA, type JudgeCandidate, judgePrompt } from "../../selection/judge-prompt.js";
import { type JudgeVerdict, parseJudgeAnswer, validJudgeVerdict } from "../../selection/rank.js";
import { budgetStopOf } from "../budget-guard.js";
import type { JudgeRecord } from "../events.js";
import type { RunContext } from "../workspace-runner.js";

/** What the judge did, and its verdict when it gave a valid one. */
export interface JudgeOutcome {
  record: JudgeRecord;
  verdict?: JudgeVerdict;
  /** The run was interrupted while the judge ran: nothing is decided. */
  cancelled?: boolean;
}

/** The folder of a task's selection files inside the run folder. */
export function selectionDir(runDir: string, taskId: string): string {
  return path.join(runDir, "selections", taskId);
}

/**
 * One read-only agent session that compares the tied candidates: it is given the task's prompt
 * and each candidate's check result and diff, and must answer `{winner, ranking, reasons}`.
 * Codex gets the answer's JSON Schema (`--output-schema`) and a read-only sandbox; a command
 * agent runs `agent.judge_command`. Prompt, answer and log are kept in the run folder. The judge
 * runs in a private empty folder, not the main checkout: it only needs the prompt, and the
 * candidates' diffs it reads are untrusted. A budget of its task or of the run reached while it
 * works stops it after the grace period, as it stops the workspaces' agent turns.
 */
export async function runJudge(
  run: RunContext,
  selection: TaskSelection,
  asked: readonly string[],
  signal: AbortSignal,
): Promise<JudgeOutcome> {
  // Attached before the budget is first looked at, so that one reached at any later moment
  // stops this judge too.
  const budgetStop = new AbortController();
  run.budget.attachJudge(selection.taskId, budgetStop);
  try {
    return await askJudge(run, selection, asked, AbortSignal.any([signal, budgetStop.signal]));
  } finally {
    run.budget.detachJudge(selection.taskId);
  }
}

async function askJudge(
  run: RunContext,
  selection: TaskSelection,
  asked: readonly string[],
  signal: AbortSignal,
): Promise<JudgeOutcome> {
  const dir = selectionDir(run.paths.dir, selection.taskId);
  const relative = (file: string) => path.relative(run.paths.dir, file);
  await mkdir(dir, { recursive: true });
  const workspaces = asked
    .map((name) => run.plan.workspaces.find((workspace) => workspace.name === name))
    .filter((workspace): workspace is Workspace => workspace !== undefined);
  const first = workspaces[0] as Workspace;
  const promptFile = path.join(dir, "judge-prompt.md");
  const answerFile = path.join(dir, "judge-answer.txt");
  const logFile = path.join(dir, "judge.log");
  const base: JudgeRecord = { status: "unavailable", asked: [...asked] };
  const settings = judgeSettings(first.agent, path.join(dir, "judge-schema.json"));
  if (settings === undefined) {
    return {
      record: {
        ...base,
        problem: "the command agent has no agent.judge_command; set one to let a judge break ties",
      },
    };
  }
  // The judge is an agent session like any other: once the run's or the task's budget is spent,
  // none starts (the next criterion decides), or a best-of-N task would spend past its limit.
  const budgetSpent = run.budget.spentFor(selection.taskId);
  if (budgetSpent !== undefined) {
    return { record: { ...base, problem: `not asked: ${budgetSpent.description}` } };
  }
  const candidates = await Promise.all(
    workspaces.map((workspace) => judgeCandidate(run, workspace)),
  );
  const prompt = judgePrompt(selection.taskId, first.prompt, candidates);
  await writeFile(promptFile, run.secrets.redact(prompt));
  await writeFile(
    path.join(dir, "judge-schema.json"),
    `${JSON.stringify(JUDGE_SCHEMA, null, 2)}\n`,
  );
  const files = { promptFile: relative(promptFile), logFile: relative(logFile) };
  const cwd = await mkdtemp(path.join(os.tmpdir(), "conductor-judge-"));
  const task = selection.taskId;
  // From here its agent time counts toward the budgets, and its tokens as they are reported;
  // the guard looks again now that one more agent uses up the time left.
  run.recorder.emit({ type: "judge.started", task, asked: [...asked] });
  run.budget.check();
  const started = Date.now();
  const result = await run
    .agentFor(settings.kind)
    .run({
      cwd,
      prompt,
      settings,
      env: judgeEnv(first, run.paths.runId, prompt, promptFile, asked),
      signal,
      logFile,
      redactor: run.secrets.redactor,
      onActivity: (activity) => {
        if (activity.kind !== "usage") return;
        run.recorder.emit({ type: "judge.usage", task, usage: activity.usage });
        run.budget.check();
      },
    })
    .finally(() => rm(cwd, { recursive: true, force: true }));
  // A judge is an agent session the budgets count, however it ended: cut short by Ctrl-C, its
  // pick is made again on resume, but what it spent stays spent.
  const spent = {
    agentTimeMs: Date.now() - started,
    ...(result.usage === undefined ? {} : { usage: result.usage }),
  };
  run.recorder.emit({ type: "judge.finished", task, ...spent });
  const budgetStopped = budgetStopOf(signal);
  if (budgetStopped === undefined && (result.outcome.status === "cancelled" || signal.aborted)) {
    return {
      record: { ...base, ...files, status: "failed", problem: "cancelled", ...spent },
      cancelled: true,
    };
  }
  const answer = result.finalMessage ?? "";
  await writeFile(answerFile, `${run.secrets.redact(answer).trimEnd()}\n`);
  const withAnswer = { ...base, ...files, answerFile: relative(answerFile), ...spent };
  if (budgetStopped !== undefined) {
    const problem = `stopped after the grace period: ${budgetStopped.description}`;
    return { record: { ...withAnswer, status: "failed", problem } };
  }
  if (result.outcome.status !== "succeeded") {
    const why =
      "message" in result.outcome ? result.outcome.message : `it ended ${result.outcome.status}`;
    return { record: { ...withAnswer, status: "failed", problem: `the judge failed: ${why}` } };
  }
  const checked = validJudgeVerdict(parseJudgeAnswer(answer), asked);
  if ("problem" in checked) {
    return { record: { ...withAnswer, status: "invalid", problem: checked.problem } };
  }
  return {
    record: { ...withAnswer, status: "chose", reasons: checked.verdict.reasons },
    verdict: checked.verdict,
  };
}

/**
 * The agent settings of the judge: the candidates' agent, read-only. Claude gets the reviewer's
 * treatment: read-only tools, plan mode and none of `agent.args` (they may allow editing tools).
 * Undefined for a command agent without a judge command.
 */
export function judgeSettings(agent: AgentConfig, schemaFile: string): AgentConfig | undefined {
  switch (agent.kind) {
    case "command":
      return agent.judgeCommand === undefined
        ? undefined
        : { ...agent, command: agent.judgeCommand };
    case "codex":
      return {
        ...agent,
        sandbox: "read-only",
        // The judge works in a private empty folder (it only needs its prompt), which is not a
        // git repository: codex refuses such a folder unless told it is meant.
        args: [...agent.args, "--skip-git-repo-check", "--output-schema", schemaFile],
      };
    case "claude":
      return { ...agent, sandbox: "read-only", args: ["--permission-mode", "plan"] };
  }
}

/** The judge's environment: the task's, without the variables of one candidate's worktree. */
function judgeEnv(
  first: Workspace,
  runId: string,
  prompt: string,
  promptFile: string,
  asked: readonly string[],
): Record<string, string> {
  const {
    CONDUCTOR_WORKSPACE_NAME: _name,
    CONDUCTOR_WORKSPACE_PATH: _path,
    CONDUCTOR_ATTEMPT: _attempt,
    ...env
  } = first.env;
  return {
    ...env,
    CONDUCTOR_RUN_ID: runId,
    CONDUCTOR_PROMPT: prompt,
    CONDUCTOR_PROMPT_FILE: promptFile,
    CONDUCTOR_JUDGE_CANDIDATES: asked.join(" "),
  };
}

async function judgeCandidate(run: RunContext, workspace: Workspace): Promise<JudgeCandidate> {
  const state = run.recorder.state.workspaces[workspace.name];
  let diff = "(no changes)";
  if (state?.startCommit !== undefined && state.commit !== undefined) {
    diff = await git(run.plan.repo.root, [
      "diff",
      "--no-color",
      "--no-ext-diff",
      state.startCommit,
      state.commit,
    ]);
  }
  return {
    name: workspace.name,
    check:
      state?.check === "none"
        ? "succeeded (no check script)"
        : `check ${state?.check ?? "unknown"}`,
    diff: run.secrets.redact(diff),
    finalMessage: state?.agent.finalMessage,
  };
}
