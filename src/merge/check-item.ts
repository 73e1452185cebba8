/** How one item weighs on merge readiness; `info` never decides anything. */
export type CheckLevel = "pass" | "warn" | "block" | "info";

/** The things `checks` looks at, one item each. */
export type CheckId =
  | "finished"
  /** The branch moved while the other items were being gathered: they judged another commit. */
  | "moved"
  | "uncommitted"
  | "ahead"
  | "behind"
  | "check-script"
  | "review"
  | "added-markers"
  | "conflicts"
  /** Ignored files the merge would overwrite in the checkout that has the base checked out. */
  | "ignored-files"
  /** That checkout's link to the repository, when it is a linked worktree (git runs its config). */
  | "base-checkout"
  /**
   * The base branch being rebased or bisected in a checkout: a local merge refuses to move it
   * (the rebase would set it back), a merge on GitHub leaves it for later.
   */
  | "base-busy"
  /** Whether GitHub could be asked, and whether the branch has a pull request. */
  | "github"
  /** The pull request's state and whether GitHub has the branch's head. */
  | "pr"
  /** GitHub's review decision. */
  | "pr-review"
  /** CI status checks of the pull request. */
  | "ci"
  /** Deployments of the pull request's head commit. */
  | "deployments"
  /** Unresolved review comments on the pull request. */
  | "review-threads";

/** One line of the Checks view: what, how it weighs, and why in one line. */
export interface CheckItem {
  id: CheckId;
  level: CheckLevel;
  reason: string;
}
