import picomatch from "picomatch";
import { UsageError } from "../errors.js";
import { conductorCommand } from "../hint/command.js";
import type { TaskConfig } from "../schema/config.js";
import { didYouMeanSuffix } from "../schema/suggest.js";
import { withDependencies } from "./dag.js";

/**
 * Ids of the tasks named by `patterns` (ids or globs such as `fix-*`) plus everything they depend
 * on. Every pattern must match at least one task.
 */
export function selectTasks(
  tasks: readonly TaskConfig[],
  patterns: readonly string[],
): Set<string> {
  const ids = tasks.map((task) => task.id);
  if (patterns.length === 0) return new Set(ids);
  const named = new Set<string>();
  for (const pattern of patterns) {
    const isMatch = picomatch(pattern);
    const matches = ids.filter((id) => isMatch(id));
    if (matches.length === 0) {
      throw new UsageError(`no task matches "${pattern}".${didYouMeanSuffix(pattern, ids)}`, {
        hint: `Task ids are listed by \`${conductorCommand(["plan"])}\`.`,
      });
    }
    for (const id of matches) named.add(id);
  }
  return withDependencies(named, tasks);
}
