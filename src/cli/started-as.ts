import { realpathSync } from "node:fs";
import path from "node:path";
import { isInside } from "../fs/is-inside.js";
import { shellQuote } from "../hint/shell-quote.js";
import { findOnPath } from "../process/find-on-path.js";
import { PACKAGE_ROOT } from "./package-info.js";

/**
 * How to start this conductor from `cwd`, for commands printed to be run from there: `npx
 * conductor` inside its own checkout (the README's first command, where npx finds this
 * package), `conductor` where that name on PATH is this install, else the launcher's own path.
 * Outside the checkout, `npx conductor` would fetch an unrelated package from the registry.
 */
export function howToStartConductor(cwd: string): string {
  if (isInside(PACKAGE_ROOT, cwd)) return "npx conductor";
  const launcher = path.join(PACKAGE_ROOT, "bin", "conductor");
  const onPath = findOnPath("conductor");
  const same = onPath !== undefined && realPath(onPath) === realPath(launcher);
  return same ? "conductor" : shellQuote(launcher);
}

/**
 * `npx conductor` when the `conductor` on PATH is this install reached through a project's
 * `node_modules/.bin`, as `npx` and npm scripts put it there: the shell a printed hint is pasted
 * into (a CI log's reader's) has no such PATH, and a bare `conductor` is not found there.
 * Undefined otherwise: hints then say `conductor`.
 */
export function npxWhenStartedByNpm(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  const onPath = findOnPath("conductor", env);
  if (onPath === undefined) return undefined;
  const bin = path.dirname(onPath);
  if (path.basename(bin) !== ".bin" || path.basename(path.dirname(bin)) !== "node_modules") {
    return undefined;
  }
  const launcher = realPath(path.join(PACKAGE_ROOT, "bin", "conductor"));
  return launcher !== undefined && realPath(onPath) === launcher ? "npx conductor" : undefined;
}

function realPath(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}
