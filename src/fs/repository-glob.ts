import { glob } from "tinyglobby";

/**
 * Files of the repository at `root` that `pattern` matches, as conductor matches `copy:` and
 * `workspaces.context` entries (one function, so "matches" means the same when the config is
 * checked and when files are copied): dotfiles included, symlinks followed (a linked
 * `.env.local` is a file like any other; callers refuse links out of the repository), git's and
 * conductor's own folders left out.
 */
export function globRepositoryFiles(root: string, pattern: string): Promise<string[]> {
  return glob(pattern, {
    cwd: root,
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: true,
    ignore: [".git/**", "**/.git/**", ".conductor/**"],
    expandDirectories: false,
  });
}
