import { type SimpleGit, simpleGit } from "simple-git";

/**
 * A simple-git client that fails whenever git exits non-zero. By default simple-git fails only
 * when git also wrote to stderr, and some failures do not: `git merge` reports a conflict on
 * stdout, `--quiet` checks exit 1 in silence.
 */
export function gitClient(baseDir: string): SimpleGit {
  return simpleGit({
    baseDir,
    errors: (error, result) => {
      if (error !== undefined || result.exitCode === 0) return error;
      const output = Buffer.concat([...result.stdErr, ...result.stdOut]);
      return output.length > 0 ? output : Buffer.from(`git exited with code ${result.exitCode}`);
    },
  });
}
