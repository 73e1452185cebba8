import { runGit } from "./run-git.js";

/**
 * The files among `paths` (relative to the repository root) that are untracked and gitignored:
 * local files, such as `.env.local`, that a new worktree does not get from the branch.
 */
export async function ignoredUntrackedFiles(
  root: string,
  paths: readonly string[],
): Promise<string[]> {
  const out = await runGit(root, [
    "ls-files",
    "--others",
    "--ignored",
    "--exclude-standard",
    "-z",
    "--",
    ...paths.map((file) => `:(literal)${file}`),
  ]);
  return out.split("\0").filter((file) => file !== "");
}
