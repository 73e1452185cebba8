import { conductorCommand } from "../hint/command.js";
import { showControls } from "../report/terminal-text.js";
import type { WorkspaceChecks } from "./checks.js";

/**
 * `conductor checks` as text: per workspace a header (ready, or blocked) and one line per item,
 * its level first; then how many are ready and the command that merges them.
 */
export function renderChecks(checks: readonly WorkspaceChecks[], runId: string): string {
  const lines: string[] = [];
  for (const entry of checks) {
    const verdict = entry.blocked
      ? "BLOCKED"
      : entry.items.some((item) => item.level === "warn")
        ? "ready, with warnings"
        : "ready";
    lines.push(`${entry.name} (${entry.branch}): ${verdict}`);
    // A reason names files of the branch and worktree: their control characters are shown.
    for (const item of entry.items) {
      lines.push(`  ${item.level.padEnd(5)}  ${showControls(item.reason)}`);
    }
    lines.push("");
  }
  const ready = checks.filter((entry) => !entry.blocked).map((entry) => entry.name);
  lines.push(
    `${ready.length} of ${checks.length} workspace${checks.length === 1 ? "" : "s"} ready to merge.`,
  );
  if (ready.length === 1)
    lines.push(`Merge it with: ${conductorCommand(["merge", ready[0] as string, "--run", runId])}`);
  // Ready one by one is not ready together: the forecast says which pairs collide.
  if (ready.length > 1) {
    lines.push(
      `Merge one with: ${conductorCommand(["merge", ready[0] as string, "--run", runId])}; \`${conductorCommand(["conflicts", "--run", runId])}\` suggests an order.`,
    );
  }
  return `${lines.join("\n")}\n`;
}
