import os from "node:os";
import { Command } from "commander";
import { ExitCode, StateError, UsageError } from "../../errors.js";
import { findWorkspace } from "../../executor/find-workspace.js";
import { isRunLive } from "../../executor/load-run.js";
import { continueSession } from "../../executor/session.js";
import type { RunState } from "../../executor/types.js";
import { conductorCommand } from "../../hint/command.js";
import { followUp, waitingDependents } from "../../review/next-steps.js";
import { autoReview } from "../auto-review.js";
import { withLiveProgress } from "../execute.js";
import { parseOutputMode } from "../output.js";
import { assertAgentPreflight } from "../preflight.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

/** `conductor continue <workspace> "<instructions>"`: a follow-up turn of the same agent session. */
export function continueCommand(): Command {
  return new Command("continue")
    .description(
      "send more instructions to a workspace's agent (same session), then check and commit again",
    )
    .argument("<workspace>", "workspace name")
    .argument("[instructions...]", "what the agent should do next")
    .option("--fix-review", "send the latest review's findings to the agent to fix")
    .option("--priority <list>", "with --fix-review: only findings of these priorities, e.g. 0,1")
    .option("--run <id>", RUN_OPTION_HELP)
    .option("--output <mode>", "auto, tty, plain or json", "auto")
    .action(
      async (
        name: string,
        words: string[],
        options: { run?: string; output: string; fixReview?: boolean; priority?: string },
        command: Command,
      ) => {
        const output = parseOutputMode(options.output);
        if (options.priority !== undefined && options.fixReview !== true) {
          throw new UsageError("--priority goes with --fix-review");
        }
        if (options.fixReview !== true && words.length === 0) {
          throw new UsageError(
            "say what the agent should do next, or pass --fix-review to send it the review's findings",
          );
        }
        const { run } = await chosenRun(command, options.run);
        const found = findWorkspace(run, name);
        let prompt = words.join(" ");
        if (options.fixReview === true) {
          const { fixReviewInstructions, parsePriorities } = await import(
            "../../reviewing/fix-review.js"
          );
          const priorities =
            options.priority === undefined ? undefined : parsePriorities(options.priority);
          const fix = await fixReviewInstructions(run, found.workspace.name, priorities, prompt);
          if (fix === undefined) {
            process.stdout.write(
              `${found.workspace.name}: the latest review has no findings${priorities === undefined ? "" : ` of ${priorities.map((p) => `P${p}`).join(", ")}`} to fix\n`,
            );
            return;
          }
          prompt = fix;
        }
        if (isRunLive(found.run)) {
          throw new StateError(
            `run ${found.run.runId} is still running; continue ${name} when it has finished`,
          );
        }
        await assertAgentPreflight(found.workspace);
        const afterSuccess = await autoReview(found.run.plan);
        const state = await withLiveProgress(output, found.run, (reporters, interrupt) =>
          continueSession({
            previous: found.run,
            workspace: found.workspace.name,
            prompt,
            reporters,
            interrupt,
            homeDir: os.homedir(),
            afterSuccess,
          }),
        );
        process.exitCode = finishFollowUp(state, found.workspace.name, options.run !== undefined);
      },
    );
}

/** The exit code of a follow-up is its workspace's outcome, whatever the rest of the run did. */
function finishFollowUp(state: RunState, workspace: string, namedRun: boolean): number {
  const status = state.workspaces[workspace]?.status;
  const run = namedRun ? ["--run", state.runId] : [];
  if (status === "succeeded") {
    const waiting = waitingDependents(state, workspace);
    process.stdout.write(
      `\n${workspace} succeeded; \`${conductorCommand(["diff", workspace, ...run])}\` shows the branch now.\n` +
        (waiting.length === 0
          ? ""
          : `${waiting.join(", ")} ${waiting.length === 1 ? "waits" : "wait"} for it: run ${waiting.length === 1 ? "it" : "them"} with \`${conductorCommand(["run", "--resume", state.runId])}\`\n`),
    );
    return ExitCode.Success;
  }
  if (status === "interrupted") {
    process.stderr.write(
      `\n${workspace} was interrupted; its work so far stays in the worktree. Try again with \`${followUp(workspace, run)}\`\n`,
    );
    return ExitCode.Interrupted;
  }
  process.stdout.write(
    `\n${workspace} ${status ?? "failed"}; see \`${conductorCommand(["logs", workspace, ...run])}\`, then try again with \`${followUp(workspace, run)}\`\n`,
  );
  return ExitCode.WorkFailed;
}
