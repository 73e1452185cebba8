/**
 * A shell function for conductor's git scripts: `branch_of DIR` sets `$branch_of` to the full
 * name of the branch DIR's HEAD is on, read from the HEAD file where git keeps it, with shell
 * builtins only (a git process costs about a millisecond of exec and dynamic linking). It is ""
 * when HEAD is detached or anything is unexpected (another layout, a file that is not a regular
 * one: a FIFO would block the read), and the script then asks git, which stays the authority.
 * DIR is a checkout: `.git` is its git folder or, in a worktree, a file naming it (relative to
 * DIR when git wrote it so).
 */
export const BRANCH_OF_SH = `branch_of() {
  branch_of=
  gitdir=
  if [ -d "$1/.git" ]; then
    gitdir=$1/.git
  elif [ -f "$1/.git" ]; then
    read -r gitdir < "$1/.git" || true
    gitdir=\${gitdir#gitdir: }
    case $gitdir in /*) ;; ?*) gitdir=$1/$gitdir ;; esac
  fi
  if [ -n "$gitdir" ] && [ -f "$gitdir/HEAD" ]; then read -r branch_of < "$gitdir/HEAD" || true; fi
  case $branch_of in
    "ref: refs/heads/"?*) branch_of=\${branch_of#ref: } ;;
    *) branch_of= ;;
  esac
}
`;
