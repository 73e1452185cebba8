import { stat } from "node:fs/promises";
import path from "node:path";
import { isDynamicPattern } from "tinyglobby";
import { globRepositoryFiles } from "../fs/repository-glob.js";
import type { Config } from "./config.js";
import type { PathIssue } from "./zod-issues.js";

/**
 * Finds `workspaces.context` entries that name no file, relative to the repository root: a path
 * that does not exist or is a folder, or a glob that matches nothing. Context is what the agent
 * is told to rely on, so a typo there is refused like a missing `prompt_file` instead of leaving
 * every agent without it. (Whether a match links out of the repository is checked where it is
 * copied, in the executor.)
 */
export async function missingContextFiles(config: Config, root: string): Promise<PathIssue[]> {
  const problems: PathIssue[] = [];
  for (const [index, written] of config.workspaces.context.entries()) {
    const problem = isDynamicPattern(written)
      ? await globProblem(root, written)
      : await fileProblem(path.resolve(root, written));
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

async function fileProblem(file: string): Promise<string | undefined> {
  try {
    const info = await stat(file);
    if (info.isFile()) return undefined;
    if (info.isDirectory())
      return "is a folder; name its files, e.g. with a glob such as folder/**";
    return "is not a regular file";
  } catch {
    return "does not exist; context paths are relative to the repository root";
  }
}

async function globProblem(root: string, pattern: string): Promise<string | undefined> {
  const files = await globRepositoryFiles(root, pattern);
  return files.length > 0
    ? undefined
    : "matches no file; context globs are relative to the repository root";
}
