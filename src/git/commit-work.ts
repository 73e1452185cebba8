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
 * spawn forks the whole Node process): stage everything, unstage what must stay out, commit if
 * anything is staged (under a neutral identity when git has none), then print the new commit
 * with its parents and its own numstat against its first parent (or `none` and where HEAD is),
 * then the branch's numstat against the start commit, unless that is the same diff (the commit's
 * parent, or HEAD when nothing was committed, is the start commit). Nothing is committed unless
 * HEAD is on the workspace branch. Arguments: $1 start commit, $2 message, $3 the branch's full
 * ref name, then the excluded paths. Repository hooks are skipped: the check script is
 * conductor's gate, and a hook that waits for input would hang an unattended run. Conductor's
 * commits start no automatic maintenance (`git maintenance run --auto`, `git gc --auto`): one
 * more process per commit, and a repack in the middle of a run competes with the agents; the
 * user's own git commands keep running it.
 */
const COMMIT_SCRIPT = `set -e
from=$1
message=$2
branch=$3
shift 3
newline='
'
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
  head=$(git rev-parse HEAD)
  echo "none $head"
  parent=$head
else
  commit() {
    git -c maintenance.auto=false -c gc.auto=0 "$@" commit --quiet --no-verify -m "$message"
  }
  if ! out=$(commit 2>&1); then
    case $out in
      *"Please tell me who you are"* | *"unable to auto-detect email address"* | *"empty ident name"*)
        commit -c user.name=conductor -c user.email=conductor@localhost ;;
      *) printf '%s\\n' "$out" >&2; exit 1 ;;
    esac
  fi
  # A merge the agent left staged is committed as one: measured against its first parent.
  made=$(git log -1 --format='commit %H %P' -m --first-parent --numstat HEAD)
  printf '%s\\n' "$made"
  parents=\${made%%"$newline"*}
  parents=\${parents#commit * }
  parent=\${parents%% *}
fi
echo branch
if [ "$parent" = "$from" ]; then echo same; else git diff --numstat "$from...HEAD"; fi
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
  const own = kind === "commit" ? parseNumstat(rest.slice(0, branchAt)) : undefined;
  const measured = rest.slice(branchAt + 1);
  // `same`: the branch's diff is the commit's own, or none at all (nothing new on the branch).
  const branch =
    measured[0] === "same"
      ? (own ?? { files: 0, insertions: 0, deletions: 0 })
      : parseNumstat(measured);
  if (own === undefined) return { commit: undefined, head, commitDiff: undefined, diff: branch };
  return { commit: head, head, commitDiff: own, diff: branch };
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
