import { runGit } from "./run-git.js";

/** Tries of `git add --all` that a file removed while git read the folder made fail. */
const ADD_TRIES = 5;

/**
 * git's words for a file that was listed and then gone: gone before git's `lstat`
 * (`unable to stat 'f'`), or between its `lstat` and the `open` (`open("f")`) or `readlink`
 * (`readlink("f")`) that hashes it.
 */
const VANISHED = /(unable to stat '.*'|(open|readlink)\(".*"\)): No such file or directory/;

/**
 * `git add --all` of `pathspec` into the index `env` names (a temporary one, for a snapshot of a
 * checkout as it is), once more when a file went away between git listing its folder and reading
 * it ({@link VANISHED}): a process still at work in the checkout (an agent's leftover, a dev
 * server writing and renaming a file) must not fail the snapshot.
 */
export async function addEverything(
  dir: string,
  pathspec: string,
  env: Readonly<Record<string, string>>,
): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      await runGit(dir, ["add", "--all", "--", pathspec], { env });
      return;
    } catch (error) {
      if (!VANISHED.test(String(error)) || tries >= ADD_TRIES) throw error;
    }
  }
}
