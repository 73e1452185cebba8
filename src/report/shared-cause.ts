import type { Failure, RunState } from "../executor/types.js";
import { formatDuration } from "../schema/duration.js";

/**
 * One line for a run in which every workspace that ran failed to reach its model provider (the
 * network is down, the provider's URL is wrong): a shared cause, said once instead of per
 * workspace. Undefined when some workspace got further.
 */
export function sharedCauseLine(state: RunState): string | undefined {
  const ran = Object.values(state.workspaces).filter(
    (workspace) => workspace.status === "failed" || workspace.status === "succeeded",
  );
  const unreachable = ran
    .map((workspace) => workspace.failure)
    .filter((failure): failure is Extract<Failure, { reason: "unreachable" }> => {
      return failure?.reason === "unreachable";
    });
  if (unreachable.length === 0 || unreachable.length !== ran.length) return undefined;
  const urls = [...new Set(unreachable.map((failure) => failure.url ?? "its provider"))];
  const notStarted = Object.values(state.workspaces).filter(
    (workspace) =>
      workspace.status === "pending" ||
      (workspace.status === "skipped" && workspace.failure?.reason === "cancelled"),
  ).length;
  const seconds = formatDuration(Math.max(...unreachable.map((failure) => failure.timeoutMs)));
  const count = unreachable.length === 1 ? "the workspace" : `all ${unreachable.length} workspaces`;
  const rest = notStarted > 0 ? `; stopped early, ${notStarted} not started` : "";
  return `${count} failed to reach ${urls.join(", ")} for ${seconds}${rest}. Check the network and the provider settings; \`conductor doctor\` shows the configuration in use.`;
}
