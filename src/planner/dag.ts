import type { TaskConfig } from "../schema/config.js";

/**
 * Dependency level of every task: 0 without dependencies, else 1 + the highest level of its
 * dependencies. Validation has already rejected cycles and unknown ids.
 */
export function taskLevels(tasks: readonly TaskConfig[]): Map<string, number> {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const levels = new Map<string, number>();
  const levelOf = (id: string, trail: ReadonlySet<string>): number => {
    const known = levels.get(id);
    if (known !== undefined) return known;
    if (trail.has(id)) throw new Error(`internal error: dependency cycle through ${id}`);
    const next = new Set(trail).add(id);
    const dependencies = byId.get(id)?.dependsOn ?? [];
    const level = dependencies.reduce(
      (highest, dependency) => Math.max(highest, levelOf(dependency, next) + 1),
      0,
    );
    levels.set(id, level);
    return level;
  };
  for (const task of tasks) levelOf(task.id, new Set());
  return levels;
}

/** Ids of `roots` and everything they depend on, transitively. */
export function withDependencies(
  roots: Iterable<string>,
  tasks: readonly TaskConfig[],
): Set<string> {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const selected = new Set<string>();
  const pending = [...roots];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    if (selected.has(id)) continue;
    selected.add(id);
    pending.push(...(byId.get(id)?.dependsOn ?? []));
  }
  return selected;
}

/** Groups tasks into connected components of the (undirected) dependency graph, in config order. */
export function dependencyComponents(tasks: readonly TaskConfig[]): TaskConfig[][] {
  const parent = new Map(tasks.map((task) => [task.id, task.id]));
  const find = (id: string): string => {
    let root = id;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    parent.set(id, root);
    return root;
  };
  for (const task of tasks) {
    for (const dependency of task.dependsOn) {
      if (parent.has(dependency)) parent.set(find(task.id), find(dependency));
    }
  }
  const components = new Map<string, TaskConfig[]>();
  for (const task of tasks) {
    const root = find(task.id);
    components.set(root, [...(components.get(root) ?? []), task]);
  }
  return [...components.values()];
}
