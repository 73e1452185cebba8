import type { Failure, RunState, WorkspaceState } from "../executor/types.js";
import { conductorCommand, placeholder, runConductorCommand } from "../hint/command.js";
import type { Workspace } from "../planner/types.js";
import { renderTable } from "../report/table.js";

/** How hints name the run: by `--run <id>` when it is not the one commands read by default. */
export interface NextStepOptions {
  /** Add `--run <id>` to every command (the run is not the latest of its config file). */
  namedRun: boolean;
}

/**
 * What to do about each workspace of a finished run that did not succeed, as commands that work
 * as printed: a failed check or agent gets a follow-up (`continue`), which fixes it on the same
 * branch; a workspace that failed before its agent ran, was interrupted or was skipped for a
 * dependency is run again by `run --resume`. Empty when there is nothing to do.
 */
export function nextSteps(state: RunState, options: NextStepOptions): string {
  const run = options.namedRun ? ["--run", state.runId] : [];
  // `status --run` shows a run of any config file: a run of it must read that file.
  const ofRun = (args: string[]) =>
    runConductorCommand(state.plan.repo.root, state.plan.configFile, args);
  const resume = `\`${ofRun(["run", "--resume", state.runId])}\``;
  const rows: string[][] = [];
  for (const planned of state.plan.workspaces) {
    const workspace = state.workspaces[planned.name];
    if (workspace === undefined || workspace.archived !== undefined) continue;
    const logs = `\`${conductorCommand(["logs", planned.name, ...run])}\``;
    const failure = workspace.failure;
    if (failure?.reason === "budget" && workspace.status !== "succeeded") {
      // A resume as it is starts no agent turn while the budget stays spent (neither does a
      // follow-up): the step is to raise it, which the plan's hash leaves out.
      const file = state.plan.configFile ?? "conductor.yaml";
      const whose =
        failure.scope === "run" ? "the run's budget" : `task ${planned.taskId}'s budget`;
      const key = failure.scope === "run" ? "budget" : "its budget";
      rows.push([
        planned.name,
        `${workspace.status}:`,
        `${whose} is spent: raise ${key}.${failure.limit} in ${file}, then ${resume}`,
      ]);
      continue;
    }
    if (workspace.status === "failed" && failure !== undefined && programNotRun(failure)) {
      // A follow-up would start the same missing program again.
      const again = `\`${ofRun(["run", planned.taskId])}\``;
      rows.push([
        planned.name,
        "agent failed:",
        `its program could not be run (see ${logs}): install it, then ${resume}; or fix agent.command, then run the task again with ${again}`,
      ]);
      continue;
    }
    switch (workspace.status) {
      case "failed":
        rows.push([
          planned.name,
          `${workspace.failure?.step ?? workspace.step ?? "it"} failed:`,
          canFollowUp(planned, workspace)
            ? `see ${logs}, then fix it with \`${followUp(planned.name, run)}\``
            : `see ${logs}; once the cause is fixed, ${resume}`,
        ]);
        break;
      case "skipped":
        rows.push([
          planned.name,
          "skipped:",
          workspace.failure?.reason !== "dependency-failed"
            ? `runs with ${resume}`
            : planned.winnerOf?.includes(workspace.failure.dependency)
              ? // No candidate passed: a person may pick one, or fix one and resume.
                `starts from a winner of ${workspace.failure.dependency}: pick one with \`${conductorCommand(["pick", workspace.failure.dependency, placeholder("<workspace>"), ...run])}\`, then ${resume}`
              : `runs once ${workspace.failure.dependency} succeeds, with ${resume}`,
        ]);
        break;
      case "interrupted":
      case "pending":
        rows.push([planned.name, `${workspace.status}:`, `continues with ${resume}`]);
        break;
      case "running":
      case "succeeded":
        break;
    }
  }
  if (rows.length === 0) return "";
  return `\nNext:\n${renderTable(rows.map((row) => ["", ...row]))}\n`;
}

/** `conductor continue <workspace> "<what to change>"`, as printed after a failed check or agent. */
export function followUp(workspace: string, run: readonly string[] = []): string {
  return conductorCommand(["continue", workspace, ...run, placeholder('"<what to change>"')]);
}

/**
 * The agent's program never ran: not found or not executable (the shell's 127 and 126), or it
 * could not be started at all.
 */
function programNotRun(failure: Failure): boolean {
  if (failure.step !== "agent") return false;
  if (failure.reason === "spawn-error") return true;
  return (
    failure.reason === "exit-non-zero" && (failure.exitCode === 127 || failure.exitCode === 126)
  );
}

/**
 * Whether `continue` can fix the workspace: its agent or check failed on a worktree it still has,
 * and the agent left a session to continue (a command agent needs none).
 */
function canFollowUp(planned: Workspace, workspace: WorkspaceState): boolean {
  const step = workspace.failure?.step ?? workspace.step;
  if (step !== "agent" && step !== "check") return false;
  return workspace.agent.sessionId !== undefined || planned.agent.kind === "command";
}

/**
 * The workspaces that wait for `name` (directly or through others) and did not run because of
 * it: after a follow-up fixed `name`, `run --resume` runs them.
 */
export function waitingDependents(state: RunState, name: string): string[] {
  const waiting: string[] = [];
  const blocked = new Set([name]);
  for (const planned of state.plan.workspaces) {
    if (!planned.dependsOn.some((dependency) => blocked.has(dependency))) continue;
    const status = state.workspaces[planned.name]?.status;
    if (status === "succeeded") continue;
    blocked.add(planned.name);
    waiting.push(planned.name);
  }
  return waiting;
}
