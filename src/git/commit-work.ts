import { runGitScript } from "./run-git.js";
import { withLockRetry } from "./worktree.js";

/** Files changed, lines added and removed. */
export interface DiffStat {
  files: number;
  insertions: number;
  deletions: number;
}

/** What {@link commitWork} did. */
export type CommittedWork =
  | {
      /** The new commit; undefined when there was nothing to commit. */
      commit: string | undefined;
      /** The branch's HEAD after the step (the new commit, or where the branch already was). */
      head: string;
      /** The new commit against its parent; undefined when there was nothing to commit. */
      commitDiff: DiffStat | undefined;
      /** The branch measured against the start commit, after the commit. */
      diff: DiffStat;
    }
  /** HEAD was not on the workspace branch (detached, or on another branch): nothing was committed. */
  | { headElsewhere: string };

/**
 * The whole commit step as one shell, so that Node starts one process instead of five (each
 * spawn blocks its event loop for a few milliseconds): stage everything, unstage what must stay
 * out, commit if anything is staged (under a neutral identity when git has none), then print the
 * new commit and its own numstat against its parent (or `none` and where HEAD is), then the
 * branch's numstat against the start commit. Nothing is committed unless HEAD is on the
 * workspace branch. Arguments: $1 start commit, $2 message, $3 the branch's full ref name, then
 * the excluded paths. Repository hooks are skipped: the check script is
 * conductor's gate, and a hook that waits for input would hang an unattended run.
 */
const COMMIT_SCRIPT = `set -e
from=$1
message=$2
branch=$3
shift 3
on=$(git symbolic-ref -q HEAD || echo "a detached HEAD at $(git rev-parse HEAD)")
if [ "$on" != "$branch" ]; then
  echo "elsewhere $on"
  exit 0
fi
git add --all -- .
# An exclude pathspec would make git refuse when a path is also gitignored (copied env files
# usually are), so excluded paths are unstaged after the fact.
for entry in "$@"; do
  set -- "$@" ":(literal)$entry"
  shift
done
if [ $# -gt 0 ]; then git reset --quiet -- "$@"; fi
if git diff --cached --quiet; then
  echo "none $(git rev-parse HEAD)"
else
  if ! out=$(git commit --quiet --no-verify -m "$message" 2>&1); then
    case $out in
      *"Please tell me who you are"* | *"unable to auto-detect email address"* | *"empty ident name"*)
        git -c user.name=conductor -c user.email=conductor@localhost commit --quiet --no-verify -m "$message" ;;
      *) printf '%s\\n' "$out" >&2; exit 1 ;;
    esac
  fi
  echo "commit $(git rev-parse HEAD)"
  git diff --numstat HEAD^ HEAD
fi
echo branch
git diff --numstat "$from...HEAD"
`;

/**
 * Commits every change in the worktree except `exclude`d paths (copied files, `.context/`) and
 * measures the branch against `from`, in one process. Fails (a git error) when any step does.
 */
export async function commitWork(
  worktree: string,
  options: { message: string; exclude: readonly string[]; from: string; branch: string },
): Promise<CommittedWork> {
  const out = await withLockRetry(() =>
    runGitScript(worktree, COMMIT_SCRIPT, [
      options.from,
      options.message,
      `refs/heads/${options.branch}`,
      ...options.exclude,
    ]),
  );
  const [first = "", ...rest] = out.split("\n");
  if (first.startsWith("elsewhere ")) return { headElsewhere: first.slice("elsewhere ".length) };
  const [kind, head = ""] = first.trim().split(" ");
  const branchAt = rest.indexOf("branch");
  if ((kind !== "commit" && kind !== "none") || head === "" || branchAt === -1) {
    throw new Error(`unexpected output of the commit step: ${first.slice(0, 200)}`);
  }
  const branch = parseNumstat(rest.slice(branchAt + 1));
  if (kind === "none") return { commit: undefined, head, commitDiff: undefined, diff: branch };
  return { commit: head, head, commitDiff: parseNumstat(rest.slice(0, branchAt)), diff: branch };
}

/** Sums `git diff --numstat` lines (binary files count as a file with no lines). */
export function parseNumstat(lines: readonly string[]): DiffStat {
  let files = 0;
  let insertions = 0;
  let deletions = 0;
  for (const line of lines) {
    const [added, removed] = line.split("\t");
    if (added === undefined || removed === undefined) continue;
    files++;
    insertions += Number(added) || 0; // "-" for binary files
    deletions += Number(removed) || 0;
  }
  return { files, insertions, deletions };
}
