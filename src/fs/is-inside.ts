import path from "node:path";

/**
 * Path containment done once. `path.relative` starting with `..` is not enough: `..ws` is a
 * folder name inside the parent, only `..` itself or `../…` leads out.
 */

/** `child` relative to `parent` when it is `parent` itself (`""`) or lies below it, else undefined. */
export function relativeInside(parent: string, child: string): string | undefined {
  const relative = path.relative(path.resolve(parent), path.resolve(child));
  const outside =
    relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
  return outside ? undefined : relative;
}

/** Whether `child` is `parent` itself or lies below it (pure: compares paths, reads nothing). */
export function isInside(parent: string, child: string): boolean {
  return relativeInside(parent, child) !== undefined;
}

/** Whether `child` lies below `parent` and is not `parent` itself. */
export function isStrictlyInside(parent: string, child: string): boolean {
  const relative = relativeInside(parent, child);
  return relative !== undefined && relative !== "";
}
