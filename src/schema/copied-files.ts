import { LINKS_OUTSIDE } from "../fs/real-place.js";
import { matchRepositoryFiles, type RepositoryMatches } from "../fs/repository-glob.js";
import type { Config } from "./config.js";
import type { PathIssue } from "./zod-issues.js";

/**
 * Finds `workspaces.copy` entries that reach a link out of the repository: the copy step would
 * refuse it in every workspace, after worktrees and branches were made, so the config is refused
 * before anything is. (A pattern that matches nothing is fine: a copied `.env.local` is optional.)
 */
export async function copiedFileProblems(config: Config, root: string): Promise<PathIssue[]> {
  const problems: PathIssue[] = [];
  for (const [index, entry] of config.workspaces.copy.entries()) {
    const { linksOut } = await matchRepositoryFiles(root, entry.pattern);
    const problem = linkOutProblem(entry.pattern, linksOut);
    if (problem) {
      problems.push({
        keyPath: ["workspaces", "copy", index],
        at: "value",
        message: `"${entry.pattern}" ${problem}`,
      });
    }
  }
  return problems;
}

/** What is wrong with an entry that reaches links out of the repository, if it does. */
export function linkOutProblem(
  written: string,
  linksOut: RepositoryMatches["linksOut"],
): string | undefined {
  const [first] = linksOut;
  if (first === undefined) return undefined;
  return first.path === written.replace(/\/+$/, "")
    ? LINKS_OUTSIDE
    : `reaches ${first.path}, which ${LINKS_OUTSIDE}`;
}
