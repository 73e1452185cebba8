import type { CommitIdentity } from "./commit-identity.js";
import { BRANCH_OF_SH } from "./head-file.js";
import { PLAIN_GIT_SH, runGitScript } from "./run-git.js";
import { isKeptPath, parseStatus, type StatusEntry } from "./status-entries.js";
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
 * spawn forks the whole Node process), and git as few times as it can: every git process costs
 * about a millisecond of exec and dynamic linking, more than the work it does here. It stages
 * everything, unstages what must stay out and commits under the identity given (or, when only
 * tracked files changed and none stays out, lets `commit --all` stage them), reading the new
 * commit's id and size from git's own summary (in the C locale, so that its words are known); a
 * commit git refuses with nothing staged is no commit. Then it measures the branch against the
 * start commit, unless that is the same diff (HEAD was the start commit). Nothing is committed
 * unless HEAD is on the workspace branch.
 *
 * Arguments: $1 start commit, $2 message, $3 the branch's full ref name, $4 HEAD's commit when
 * the caller has just seen HEAD on that branch and nothing has run in the worktree since ("" to
 * ask git here; HEAD is still checked, from its file), $5 `nothing` when the caller's status of
 * the worktree shows nothing to stage (git is not run at all), `tracked` when it shows only
 * tracked files changed in the worktree and nothing to keep out (`commit --all` stages them
 * itself: one git process fewer; see {@link stagingOf}), $6-$9 the author's name and
 * e-mail, the committer's name and e-mail, then the paths to unstage.
 * Output: `elsewhere <where HEAD is>`, or `none <HEAD>` / `commit <new commit> <parent>` followed
 * by `stat <git's summary of it>` or its numstat, then `branch` and `same` or the branch's
 * numstat.
 *
 * Repository hooks are skipped, post-commit too (`core.hooksPath=/dev/null`): the check script is
 * conductor's gate, a hook that waits for input would hang an unattended run, and what a hook
 * prints would be read as git's summary. Conductor's commits start no automatic maintenance (`git
 * maintenance run --auto`, `git gc --auto`): one more process per commit, and a repack in the
 * middle of a run competes with the agents; the user's own git commands keep running it. The
 * message is UTF-8, and so says the commit: an `i18n.commitEncoding` of the config (which a check
 * script may have written) would go into its header as it is.
 */
const COMMIT_SCRIPT = `set -e
${PLAIN_GIT_SH}${BRANCH_OF_SH}from=$1
message=$2
branch=$3
parent=$4
shown=$5
author_name=$6
author_email=$7
committer_name=$8
committer_email=$9
shift 9
newline='
'
# Still on the branch the caller saw? Asked of git below when that cannot be told without it.
if [ -n "$parent" ]; then
  branch_of .
  if [ "$branch_of" != "$branch" ]; then parent=; fi
fi
if [ -z "$parent" ]; then
  # One process for both: HEAD's commit, then the ref it is on ("HEAD" when detached).
  head=$(git rev-parse HEAD --symbolic-full-name HEAD)
  parent=\${head%%"$newline"*}
  on=\${head#*"$newline"}
  if [ "$on" != "$branch" ]; then
    if [ "$on" = HEAD ]; then on="a detached HEAD at $parent"; fi
    echo "elsewhere $on"
    exit 0
  fi
fi
made=
all=
if [ "$shown" = tracked ]; then
  all=--all
elif [ "$shown" != nothing ]; then
  git add --all -- .
  # An exclude pathspec would make git refuse when a path is also gitignored (copied env files
  # usually are), so excluded paths are unstaged after the fact.
  for entry in "$@"; do
    set -- "$@" ":(literal)$entry"
    shift
  done
  if [ $# -gt 0 ]; then git reset --quiet -- "$@"; fi
fi
if [ "$shown" != nothing ]; then
  if out=$(GIT_AUTHOR_NAME=$author_name GIT_AUTHOR_EMAIL=$author_email \\
    GIT_COMMITTER_NAME=$committer_name GIT_COMMITTER_EMAIL=$committer_email \\
    LC_ALL=C git -c maintenance.auto=false -c gc.auto=0 -c core.abbrev=no -c core.hooksPath=/dev/null \\
      -c i18n.commitEncoding=UTF-8 commit --no-verify $all -m "$message" 2>&1); then
    made=yes
  elif ! git diff --cached --quiet; then
    # Refused with something staged is an error; with nothing staged (what the status showed
    # was not git add's to stage) there is nothing to commit.
    printf '%s\\n' "$out" >&2
    exit 1
  fi
fi
if [ -z "$made" ]; then
  echo "none $parent"
else
  # git's summary starts "[<branch> <full id>] <subject>"; anything else is asked of git.
  made=\${out%%"$newline"*}
  made=\${made%%]*}
  made=\${made##* }
  case $made in
    *[!0-9a-f]* | "") made=$(git rev-parse HEAD) ;;
  esac
  if [ \${#made} -lt 40 ]; then made=$(git rev-parse HEAD); fi
  echo "commit $made $parent"
  # A line after the summary: " <n> files changed, <n> insertions(+), <n> deletions(-)" (after
  # " Author: …" and " Date: …" when the author is not the committer).
  stat=
  case $out in
    "["*)
      rest=\${out#*"$newline"}
      while [ -n "$rest" ]; do
        line=\${rest%%"$newline"*}
        case $line in
          " "[0-9]*" changed"*) stat=$line; break ;;
          " Author: "* | " Committer: "* | " Date: "*) ;;
          *) break ;;
        esac
        case $rest in *"$newline"*) rest=\${rest#*"$newline"} ;; *) rest= ;; esac
      done ;;
  esac
  if [ -n "$stat" ]; then echo "stat$stat"; else git diff --numstat "$parent" HEAD; fi
fi
echo branch
if [ "$parent" = "$from" ]; then echo same; else git diff --numstat "$from...HEAD"; fi
`;

/**
 * Commits every change in the worktree except `exclude`d paths (copied files, `.context/`) and
 * measures the branch against `from`, in one process. Fails (a git error) when any step does.
 * `head`: HEAD's commit, when the caller saw HEAD on the branch and nothing ran in the worktree
 * since (git is not asked again; the HEAD file still is). `status`: the worktree's `git status
 * --porcelain=v1 -z --untracked-files=all --no-renames` just read: only the excluded paths it
 * shows are unstaged.
 */
export async function commitWork(
  worktree: string,
  options: {
    message: string;
    exclude: readonly string[];
    from: string;
    branch: string;
    head?: string | undefined;
    status?: string | undefined;
    /** Who the commit is by (see askCommitIdentity). */
    identity: CommitIdentity;
  },
): Promise<CommittedWork> {
  const { identity } = options;
  const entries = options.status === undefined ? undefined : parseStatus(options.status).entries;
  const shown = entries?.map((entry) => entry.path);
  const unstage =
    shown === undefined
      ? options.exclude
      : options.exclude.filter((kept) => shown.some((file) => isKeptPath(file, [kept])));
  const staging = stagingOf(entries, options.exclude);
  const out = await withLockRetry(() =>
    runGitScript(worktree, COMMIT_SCRIPT, [
      options.from,
      options.message,
      `refs/heads/${options.branch}`,
      options.head ?? "",
      staging,
      identity.authorName,
      identity.authorEmail,
      identity.committerName,
      identity.committerEmail,
      ...unstage,
    ]),
  );
  const [first = "", ...rest] = out.split("\n");
  if (first.startsWith("elsewhere ")) return { headElsewhere: first.slice("elsewhere ".length) };
  const [kind, head = ""] = first.trim().split(" ");
  const branchAt = rest.indexOf("branch");
  if ((kind !== "commit" && kind !== "none") || head === "" || branchAt === -1) {
    throw new Error(`unexpected output of the commit step: ${first.slice(0, 200)}`);
  }
  const own = kind === "commit" ? commitStat(rest.slice(0, branchAt)) : undefined;
  const measured = rest.slice(branchAt + 1);
  // `same`: the branch's diff is the commit's own, or none at all (nothing new on the branch).
  const branch =
    measured[0] === "same"
      ? (own ?? { files: 0, insertions: 0, deletions: 0 })
      : parseNumstat(measured);
  if (own === undefined) return { commit: undefined, head, commitDiff: undefined, diff: branch };
  return { commit: head, head, commitDiff: own, diff: branch };
}

/**
 * What the commit script stages, from the worktree's status just read (undefined: not read):
 * - `nothing`: every change shown is kept out, so git is not run at all;
 * - `tracked`: only tracked files changed in the worktree (` M`: the index as HEAD has it, no
 *   new, deleted, renamed or conflicted path) and none is kept out. `git commit --all` stages
 *   those itself, through the same function of git as `git add --all`, which would find no new
 *   file to add; the status lists untracked files one by one (`--untracked-files=all`);
 * - `""`: `git add --all`, then the kept paths unstaged.
 */
function stagingOf(
  entries: readonly StatusEntry[] | undefined,
  exclude: readonly string[],
): "nothing" | "tracked" | "" {
  if (entries === undefined) return "";
  if (entries.every((entry) => isKeptPath(entry.path, exclude))) return "nothing";
  const onlyTracked = entries.every(
    (entry) => entry.code === " M" && !isKeptPath(entry.path, exclude),
  );
  return onlyTracked ? "tracked" : "";
}

/** The new commit's size, from git's summary line (`stat …`) or from numstat lines. */
function commitStat(lines: readonly string[]): DiffStat {
  const summary = lines[0]?.startsWith("stat ") ? lines[0] : undefined;
  if (summary === undefined) return parseNumstat(lines);
  const count = (pattern: RegExp) => Number(pattern.exec(summary)?.[1] ?? 0);
  return {
    files: count(/(\d+) files? changed/),
    insertions: count(/(\d+) insertions?\(\+\)/),
    deletions: count(/(\d+) deletions?\(-\)/),
  };
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
