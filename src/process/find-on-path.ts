import { accessSync, constants } from "node:fs";
import path from "node:path";

/** The first executable `name` in the folders of `env.PATH`, as found there (not resolved). */
export function findOnPath(
  name: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Whether this process may execute `file` (exec may still fail: a folder, a missing `#!`). */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
