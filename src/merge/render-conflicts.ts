import { conductorCommand } from "../hint/command.js";
import { renderTable } from "../report/table.js";
import type { ConflictForecast, MergeForecast } from "./conflicts.js";

/** Conflicted paths shown on one line before the list is cut short. */
const SHOWN_FILES = 5;

/**
 * `conductor conflicts` as text: each finished workspace against the base branch, the pairs that
 * collide (and how many do not), then the suggested merge order and what must wait.
 */
export function renderConflicts(forecast: ConflictForecast): string {
  const { base, workspaces, pairs, skipped, order } = forecast;
  const lines = [
    `run ${forecast.runId} — base ${base.ref} (${base.commit.slice(0, 10)}) — ${workspaces.length} finished workspace${workspaces.length === 1 ? "" : "s"}`,
    "",
  ];
  if (workspaces.length === 0) {
    lines.push("No finished workspace has commits to merge.");
  } else {
    lines.push(
      renderTable([
        ["WORKSPACE", `INTO ${base.ref}`],
        ...workspaces.map((entry) => [entry.name, verdict(entry.againstBase)]),
      ]),
    );
  }
  // Only the pairs that collide are listed: 20 workspaces make 190 pairs.
  const colliding = pairs.filter((pair) => !pair.clean);
  if (colliding.length > 0) {
    lines.push(
      "",
      renderTable([
        ["PAIR", "MERGE"],
        ...colliding.map((pair) => [`${pair.a} + ${pair.b}`, verdict(pair)]),
      ]),
    );
  }
  if (pairs.length > 0) {
    lines.push(
      "",
      `${pairs.length - colliding.length} of ${pairs.length} pair${pairs.length === 1 ? "" : "s"} merge cleanly.`,
    );
  }
  if (skipped.length > 0) {
    lines.push("", "Left out:");
    for (const entry of skipped) lines.push(`  ${entry.name}: ${entry.reason}`);
  }
  if (workspaces.length > 0) {
    lines.push(
      "",
      `Suggested merge order (lands ${order.land.length} of ${workspaces.length} without conflicts):`,
    );
    order.land.forEach((name, index) => {
      lines.push(`  ${index + 1}. ${name}`);
    });
    for (const entry of order.held) {
      const against = entry.conflictsWith[0] === "base" ? base.ref : entry.conflictsWith.join(", ");
      lines.push(`  held: ${entry.name} conflicts with ${against}; resolve it once those landed`);
    }
    for (const name of order.failed) {
      lines.push(
        `  not suggested: ${name} failed; ${conductorCommand(["checks", name, "--run", forecast.runId])} says what blocks it`,
      );
    }
    if (order.land.length > 0) {
      lines.push(
        "",
        `Land the first with: ${conductorCommand(["merge", order.land[0] as string, "--run", forecast.runId])}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

function verdict(forecast: MergeForecast): string {
  if (forecast.clean) return "clean";
  const shown = forecast.files.slice(0, SHOWN_FILES).join(", ");
  const more =
    forecast.files.length > SHOWN_FILES ? `, … (${forecast.files.length - SHOWN_FILES} more)` : "";
  return `CONFLICT ${shown}${more}`;
}
