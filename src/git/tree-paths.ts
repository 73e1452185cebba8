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
  // Paths with a newline cannot be asked for on a line; they count as present (refused).
  const askable = paths.filter((file) => !file.includes("\n"));
  const present = new Set(paths.filter((file) => file.includes("\n")));
  if (askable.length === 0) return present;
  const out = await runGit(dir, ["cat-file", "--batch-check=%(objectname)"], {
    input: askable.map((file) => `${tree}:${file}\n`).join(""),
  });
  const answers = out.split("\n");
  askable.forEach((file, at) => {
    if (!(answers[at] ?? "").endsWith(" missing")) present.add(file);
  });
  return present;
}
