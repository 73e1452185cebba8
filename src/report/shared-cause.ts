import { credentialsRejected } from "../executor/failure.js";
import type { Failure, RunState, WorkspaceState } from "../executor/types.js";
import { conductorCommand } from "../hint/command.js";
import { formatDuration } from "../schema/duration.js";

/**
 * One line for a run in which every workspace that ran failed for the same reason outside it:
 * none reached its model provider (the network is down, the provider's URL is wrong), or the
 * provider refused every agent's credentials (a wrong or revoked key). A shared cause, said once
 * instead of per workspace. Undefined when some workspace got further. Its `doctor` carries the
 * -C/-c in use: it reads that config's agent, from where the user is.
 */
export function sharedCauseLine(state: RunState): string | undefined {
  const ran = Object.values(state.workspaces).filter(
    (workspace) => workspace.status === "failed" || workspace.status === "succeeded",
  );
  if (ran.length === 0) return undefined;
  const failures = ran.map((workspace) => workspace.failure);
  const count = ran.length === 1 ? "the workspace" : `all ${ran.length} workspaces`;
  const notStarted = notStartedCount(state);
  const rest = notStarted > 0 ? `; stopped early, ${notStarted} not started` : "";
  if (failures.every((failure) => failure?.reason === "unreachable")) {
    const unreachable = failures as Extract<Failure, { reason: "unreachable" }>[];
    const urls = [...new Set(unreachable.map((failure) => failure.url ?? "its provider"))];
    const seconds = formatDuration(Math.max(...unreachable.map((failure) => failure.timeoutMs)));
    return `${count} failed to reach ${urls.join(", ")} for ${seconds}${rest}. Check the network and the provider settings; \`${conductorCommand(["doctor"])}\` shows the configuration in use.`;
  }
  if (failures.every((failure) => failure !== undefined && credentialsRejected(failure))) {
    return `the model provider rejected the agent's credentials in ${count}${rest}. Fix the key or log in again (\`${conductorCommand(["doctor"])}\` shows the credentials in use), then \`${conductorCommand(["run", "--resume", state.runId])}\` runs them again.`;
  }
  return undefined;
}

/** Workspaces that never started: pending, or skipped without running. */
function notStartedCount(state: RunState): number {
  return Object.values(state.workspaces).filter(
    (workspace: WorkspaceState) =>
      workspace.status === "pending" ||
      (workspace.status === "skipped" && workspace.failure?.reason === "cancelled"),
  ).length;
}
