import { realpathSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { isDynamicPattern } from "tinyglobby";
import { LINKS_OUTSIDE, realPlaceOf } from "../fs/real-place.js";
import { globRepositoryFiles } from "../fs/repository-glob.js";
import type { Config } from "./config.js";
import { linkOutProblem } from "./copied-files.js";
import type { PathIssue } from "./zod-issues.js";

/**
 * Finds `workspaces.context` entries that name no file, relative to the repository root: a path
 * that does not exist or is a folder, or a glob that matches nothing. Context is what the agent
 * is told to rely on, so a typo there is refused like a missing `prompt_file` instead of leaving
 * every agent without it. An entry that reaches a link out of the repository is refused too, as
 * the copy step would refuse it.
 */
export async function missingContextFiles(config: Config, root: string): Promise<PathIssue[]> {
  const problems: PathIssue[] = [];
  const context = config.workspaces.context;
  const realRoot = context.length > 0 ? realpathSync.native(root) : root;
  for (const [index, written] of context.entries()) {
    const problem = isDynamicPattern(written)
      ? await globProblem(root, written)
      : await fileProblem(realRoot, path.resolve(root, written));
    if (problem) {
      problems.push({
        keyPath: ["workspaces", "context", index],
        at: "value",
        message: `"${written}" ${problem}`,
      });
    }
  }
  return problems;
}

async function fileProblem(realRoot: string, file: string): Promise<string | undefined> {
  const place = realPlaceOf(realRoot, file);
  if (place === undefined)
    return "does not exist; context paths are relative to the repository root";
  if (!place.inside) return LINKS_OUTSIDE;
  try {
    const info = await stat(place.real);
    if (info.isFile()) return undefined;
    if (info.isDirectory())
      return "is a folder; name its files, e.g. with a glob such as folder/**";
    return "is not a regular file";
  } catch {
    return "does not exist; context paths are relative to the repository root";
  }
}

async function globProblem(root: string, pattern: string): Promise<string | undefined> {
  const { files, linksOut } = await globRepositoryFiles(root, pattern);
  return (
    linkOutProblem(pattern, linksOut) ??
    (files.length > 0
      ? undefined
      : "matches no file; context globs are relative to the repository root")
  );
}
