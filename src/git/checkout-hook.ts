import path from "node:path";
import { runGitScript } from "./run-git.js";
import { WORKTREE_SETTINGS } from "./worktree-registration.js";

/** Where git would look for the post-checkout hook, and the exec path it puts first on PATH. */
export interface PostCheckoutHook {
  /** The repository's common git folder (absolute), where its config and own hooks are. */
  commonDir: string;
  /** Absolute; the file may not exist. */
  file: string;
  /** The hooks folder the file is in (absolute), where git also finds its other hooks. */
  folder: string;
  /** `git --exec-path`: git runs hooks with it first on PATH (`. git-sh-setup` works there). */
  execPath: string;
  /**
   * The repository's settings that change what `git worktree add` makes (see
   * `WORKTREE_SETTINGS` in worktree-registration.ts), as `git config --get-regexp` prints them.
   */
  worktreeSettings: string[];
}

/**
 * Where git looks for the `post-checkout` hook that `git worktree add` runs, and the settings that
 * change what that add makes, asked once per run:
 * conductor checks out every new worktree itself (see `addWorktree`) and runs the hook as git's
 * add would, but only when there is one, since asking git in each worktree costs a process.
 *
 * Git looks in `core.hooksPath` when it is set, else in the repository's common `hooks/` folder.
 * A relative `core.hooksPath` (husky's `.husky`) is taken from where the add runs, the main
 * checkout, as git does there (not from the new worktree).
 */
export class CheckoutHook {
  private found: Promise<PostCheckoutHook> | undefined;

  constructor(private readonly root: string) {}

  find(): Promise<PostCheckoutHook> {
    if (this.found === undefined) {
      const found = findPostCheckoutHook(this.root);
      this.found = found;
      // A failed lookup (the pool's shell could not start) is asked again by the next add.
      found.catch(() => {
        if (this.found === found) this.found = undefined;
      });
    }
    return this.found;
  }
}

/**
 * The common git folder, git's exec path, `core.hooksPath` (`~` expanded) or nothing, then the
 * settings of {@link WORKTREE_SETTINGS}, one per line.
 */
const HOOKS_SCRIPT = `common=$(git rev-parse --path-format=absolute --git-common-dir) || exit
exec_path=$(git --exec-path) || exit
hooks=$(git config --type=path --get core.hooksPath)
# git config exits 1 for a key that is not set; anything else is an error.
case $? in 0 | 1) ;; *) exit 1 ;; esac
settings=$(git config --get-regexp "$1")
case $? in 0 | 1) ;; *) exit 1 ;; esac
printf '%s\\n%s\\n%s\\n%s' "$common" "$exec_path" "$hooks" "$settings"
`;

async function findPostCheckoutHook(root: string): Promise<PostCheckoutHook> {
  const [commonDir = "", execPath = "", hooksPath = "", ...worktreeSettings] = (
    await runGitScript(root, HOOKS_SCRIPT, [WORKTREE_SETTINGS.source])
  ).split("\n");
  if (!path.isAbsolute(commonDir) || !path.isAbsolute(execPath))
    throw new Error(`unexpected answer of git about the hooks folder: ${commonDir} ${execPath}`);
  const folder = hooksPath === "" ? path.join(commonDir, "hooks") : path.resolve(root, hooksPath);
  return {
    commonDir,
    file: path.join(folder, "post-checkout"),
    folder,
    execPath,
    worktreeSettings: worktreeSettings.filter(Boolean),
  };
}
