import { runGit } from "./run-git.js";

/** Paths whose entry (content, mode or presence) differs between two trees. */
export async function changedPaths(dir: string, from: string, to: string): Promise<string[]> {
  if (from === to) return [];
  const out = await runGit(dir, ["diff-tree", "-r", "-z", "--no-renames", "--name-only", from, to]);
  return out.split("\0").filter((entry) => entry !== "");
}

/** Which of `paths` `tree` has an entry at (a file, link, folder or submodule). */
export async function presentIn(
  dir: string,
  tree: string,
  paths: readonly string[],
): Promise<Set<string>> {
  return new Set((await entryTypes(dir, tree, paths)).keys());
}

/**
 * The type of the entry `tree` has at each of `paths` that it has one at: `blob` (a file or
 * link), `tree` (a folder) or `commit` (a submodule). A path with a newline cannot be asked for
 * on a line: it counts as present, of type `unknown`.
 */
export async function entryTypes(
  dir: string,
  tree: string,
  paths: readonly string[],
): Promise<Map<string, string>> {
  const askable = paths.filter((file) => !file.includes("\n"));
  const types = new Map<string, string>(
    paths.filter((file) => file.includes("\n")).map((file) => [file, "unknown"]),
  );
  if (askable.length === 0) return types;
  const out = await runGit(dir, ["cat-file", "--batch-check=%(objecttype)"], {
    input: askable.map((file) => `${tree}:${file}\n`).join(""),
  });
  const answers = out.split("\n");
  askable.forEach((file, at) => {
    const answer = answers[at] ?? "";
    if (!answer.endsWith(" missing")) types.set(file, answer);
  });
  return types;
}
