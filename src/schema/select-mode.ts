import type { SelectMode } from "./config.js";

/**
 * The select mode a task runs with: its own `select`, else the top-level one, else `best` when
 * it has several workspaces. A task with one workspace has nothing to pick from: `manual`.
 */
export function effectiveSelectMode(
  taskMode: SelectMode | undefined,
  defaultMode: SelectMode | undefined,
  workspaceCount: number,
): SelectMode {
  if (workspaceCount <= 1) return "manual";
  return taskMode ?? defaultMode ?? "best";
}
