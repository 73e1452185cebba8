import { realpathSync } from "node:fs";
import path from "node:path";
import { findOnPath } from "../agents/resolve-binary.js";
import { isInside } from "../fs/is-inside.js";
import { shellQuote } from "../hint/shell-quote.js";
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

function realPath(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}
