import { ConductorError } from "../errors.js";
import { checkTrailerOf, isCommitOf, TRAILERS } from "../executor/commit-message.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import type { RunState } from "../executor/types.js";
import { guardWorktreeLink, worktreeOf } from "../executor/worktree-link-check.js";
import { branchInUse, howToEnd } from "../git/branch-in-use.js";
import { ignoredFilesInTheWay } from "../git/in-the-way.js";
import { mergeTree } from "../git/merge-tree.js";
import { git, listWorktrees, uncommittedPaths } from "../git/worktree.js";
import { checkoutLinkChanges } from "../git/worktree-link.js";
import { conductorCommand } from "../hint/command.js";

import { reviewActivity } from "../review/github-pr.js";
import { scriptRedactor } from "../review/workspace-process.js";
import { worktreePresence } from "../review/worktree-presence.js";
import {
  type AddedMarker,
  addedMarkers,
  BLOCKING_MARKERS,
  MAX_SCANNED_DIFF_BYTES,
} from "./added-lines.js";
import type { CheckItem } from "./check-item.js";
import { branchHeads, type ConflictForecast, forecastConflicts } from "./conflicts.js";
import { type GitHubAccess, gitHubAccess } from "./github-access.js";
import { pullRequestItems } from "./github-items.js";
import { mapLimit } from "./pool.js";
import { readReviewVerdict } from "./review-verdict.js";
import { workspacePullRequest } from "./workspace-pr.js";

export type { CheckId, CheckItem, CheckLevel } from "./check-item.js";

/** The Checks view of one workspace. */
export interface WorkspaceChecks {
  name: string;
  branch: string;
  /**
   * The branch head every item judged, read once at the start; undefined when the branch was
   * gone. A branch that moved by the end has a blocking `moved` item.
   */
  head: string | undefined;
  items: CheckItem[];
  /** Whether any item blocks the merge. */
  blocked: boolean;
}

/** Places named in one line before it is cut short. */
const SHOWN = 3;

/**
 * Gathers merge readiness for each workspace: uncommitted changes, commits ahead of and behind
 * the base branch as it is now, the check script's result and whether it ran on the current
 * head, the review verdict, markers the diff adds, conflicts with the base (git merge-tree),
 * ignored files the merge would overwrite where the base is checked out, and whether GitHub can
 * be asked. Reads only: no checkout, branch or file changes. The branches' heads are read once,
 * first, and every item judges those commits: a branch that moves meanwhile (an agent's process
 * still running, a commit in another terminal) would otherwise get items about different
 * commits, which together said "ready" for none of them.
 */
export async function gatherChecks(
  run: RunState,
  found: readonly FoundWorkspace[],
): Promise<WorkspaceChecks[]> {
  const heads = await branchHeads(run.plan.repo.root);
  const forecast = await forecastConflicts(run, found, { pairs: false, heads });
  const github = await gitHubAccess(run);
  const checkout = (await listWorktrees(run.plan.repo.root)).find(
    (entry) => entry.branch === forecast.base.ref && !entry.prunable,
  )?.path;
  // Each workspace may ask gh twice: a few at a time, not forty processes on two cores.
  const checked = await mapLimit(found, 4, (entry) =>
    checkOne(entry, heads.get(entry.workspace.branch), forecast, github, checkout),
  );
  // Every branch read again once all were checked: one git process, not one per workspace.
  const now = await branchHeads(run.plan.repo.root);
  return checked.map((checks, index) => {
    const entry = found[index] as FoundWorkspace;
    const branch = entry.workspace.branch;
    return { ...checks, ...movedSince(entry, heads.get(branch), now.get(branch), checks) };
  });
}

/**
 * The checks of a branch that is no longer at `head`, the commit they judged, but at `now`:
 * blocked by one more item that says so (unchanged when the branch is still there).
 */
function movedSince(
  found: FoundWorkspace,
  head: string | undefined,
  now: string | undefined,
  checks: WorkspaceChecks,
): Pick<WorkspaceChecks, "items" | "blocked"> {
  const { workspace, run } = found;
  if (now === head) return checks;
  const short = (commit: string | undefined) => commit?.slice(0, 10) ?? "(no branch)";
  const again = conductorCommand(["checks", workspace.name, "--run", run.runId]);
  const moved: CheckItem = {
    id: "moved",
    level: "block",
    reason: `${workspace.branch} moved while it was being checked (checked at ${short(head)}, now at ${short(now)}): these items are about ${short(head)}, not the branch; see what moved it, then run ${again}`,
  };
  return { items: [...checks.items, moved], blocked: true };
}

async function checkOne(
  found: FoundWorkspace,
  head: string | undefined,
  forecast: ConflictForecast,
  github: GitHubAccess,
  baseCheckout: string | undefined,
): Promise<WorkspaceChecks> {
  const { workspace, state, run } = found;
  const root = run.plan.repo.root;
  const base = forecast.base;
  const items: CheckItem[] = [];
  // A reason names files of the worktree, such as an uncommitted one whose name holds a secret
  // the commit step refused: redacted as the run's own output is.
  const redactor = await scriptRedactor(found);
  const result = (): WorkspaceChecks => ({
    name: workspace.name,
    branch: workspace.branch,
    head,
    items: items.map((item) => ({ ...item, reason: redactor.redact(item.reason) })),
    blocked: items.some((item) => item.level === "block"),
  });
  if (state.status !== "succeeded" && state.status !== "failed") {
    items.push({ id: "finished", level: "block", reason: `not finished (${state.status})` });
    return result();
  }
  if (head === undefined) {
    items.push({ id: "finished", level: "block", reason: `branch ${workspace.branch} is gone` });
    return result();
  }
  items.push(await uncommittedItem(found));
  const [behind, ahead] = await aheadBehind(root, base.commit, head);
  const landed = forecast.skipped.some(
    (entry) => entry.name === workspace.name && entry.alreadyInBase === true,
  );
  items.push(
    ahead === 0
      ? { id: "ahead", level: "block", reason: `no commits ahead of ${base.ref}: nothing to merge` }
      : landed
        ? {
            id: "ahead",
            level: "block",
            reason: `its changes are already in ${base.ref} (merged before, e.g. squashed): nothing to merge`,
          }
        : { id: "ahead", level: "pass", reason: `${plural(ahead, "commit")} ahead of ${base.ref}` },
    behind === 0
      ? { id: "behind", level: "pass", reason: `up to date with ${base.ref}` }
      : {
          id: "behind",
          level: "warn",
          reason: `${plural(behind, "commit")} behind ${base.ref} (it moved since the branch started)`,
        },
  );
  items.push(await checkScriptItem(found, head));
  items.push(await reviewItem(found, head));
  const start = state.startCommit ?? run.plan.base.commit;
  items.push(markersItem(await addedMarkers(root, start, head)));
  items.push(conflictsItem(forecast, workspace.name, base.ref));
  const busy = await branchInUse(root, base.ref);
  if (busy !== undefined) {
    items.push({
      id: "base-busy",
      level: "warn",
      reason: `${base.ref} is being ${busy.what} in ${busy.path}: a local merge waits until you ${howToEnd(busy)}`,
    });
  }
  if (baseCheckout !== undefined) {
    const ignored = await ignoredFilesItem(root, baseCheckout, base, head);
    if (ignored !== undefined) items.push(ignored);
  }
  items.push(...(await gitHubItems(found, head, github)));
  return result();
}

async function uncommittedItem(found: FoundWorkspace): Promise<CheckItem> {
  const { workspace, state } = found;
  const presence = await worktreePresence(found);
  // An archived workspace's path may hold a later run's worktree, or a folder made since.
  if (state.archived !== undefined || (presence !== "present" && presence !== "foreign")) {
    return { id: "uncommitted", level: "info", reason: "no worktree (archived or removed)" };
  }
  if (presence === "foreign") {
    return {
      id: "uncommitted",
      level: "block",
      reason: `${workspace.path} is not a worktree of this repository (something else took its place; conductor runs nothing there)`,
    };
  }
  // git runs there only once its link to the repository is as git made it.
  try {
    await guardWorktreeLink(worktreeOf(found));
  } catch (error) {
    if (!(error instanceof ConductorError)) throw error;
    return { id: "uncommitted", level: "block", reason: error.message };
  }
  // Copied env files, the context folder and seeded folders (a symlink one shows as untracked)
  // came from the main checkout or the cache: they are not work.
  const paths = await uncommittedPaths(workspace.path, [
    ...state.copied,
    ".context",
    ...(state.seed?.folders ?? []),
  ]);
  if (paths.length === 0) {
    return { id: "uncommitted", level: "pass", reason: "no uncommitted changes" };
  }
  return {
    id: "uncommitted",
    level: "block",
    reason: `${plural(paths.length, "uncommitted file")} (not part of the merge): ${list(paths)}`,
  };
}

async function checkScriptItem(found: FoundWorkspace, head: string): Promise<CheckItem> {
  const { state, run, workspace } = found;
  const checked = state.commit ?? state.startCommit;
  const onHead = checked === head;
  // The verdict is also in the commit conductor made after the check. The run's record is a file
  // in the repository that an agent of a later step could have written to; the commit, once on
  // the branch, is not rewritten by conductor, and a change to the branch is what the other
  // items look at. The commit the record names is read whether or not it is the head: a record
  // moved to an older commit of the branch would otherwise turn a failed check into a warning.
  // Not when the record says the latest check's commit step made nothing new: that commit's
  // trailer states an earlier check (a record forged to say so is beyond what this can catch).
  if (checked !== undefined && state.check !== undefined && state.checkInCommit !== false) {
    // A commit id: loading the run refused a record holding anything else (record-values.ts).
    const message = await git(run.plan.repo.root, [
      "log",
      "-1",
      "--format=%B",
      checked,
      "--",
    ]).catch(() => undefined);
    // A commit rewritten and pruned since (or a shallow copy of a CI shard's branches) cannot
    // confirm a pass: a warning that says so, as for a check that ran on an earlier state.
    if (message === undefined && state.check === "passed") {
      return {
        id: "check-script",
        level: "warn",
        reason: `the run's record says the check passed on commit ${checked.slice(0, 10)}, which the repository does not have (rewritten and pruned, or the record was changed), so the pass is not confirmed`,
      };
    }
    const stated =
      message !== undefined && isCommitOf(message, run.runId, workspace.name)
        ? checkTrailerOf(message)
        : undefined;
    if (stated !== undefined && stated !== state.check) {
      return {
        id: "check-script",
        level: "block",
        reason: `the run's record says the check ${state.check === "none" ? "did not exist" : state.check}, but conductor's commit ${checked.slice(0, 10)} says \`${TRAILERS.check}: ${stated}\`: the record was changed after conductor wrote it`,
      };
    }
  }
  const where = onHead
    ? `on the branch's head (${head.slice(0, 10)})`
    : `on ${checked?.slice(0, 10) ?? "an earlier state"}, not on the head ${head.slice(0, 10)}`;
  switch (state.check) {
    case "passed":
      return onHead
        ? { id: "check-script", level: "pass", reason: `check passed ${where}` }
        : { id: "check-script", level: "warn", reason: `check passed ${where}` };
    case "failed":
      return { id: "check-script", level: "block", reason: `check failed ${where}` };
    case "none":
      return { id: "check-script", level: "info", reason: "no check script" };
    case undefined:
      return { id: "check-script", level: "warn", reason: "the check did not run" };
  }
}

async function reviewItem(found: FoundWorkspace, head: string): Promise<CheckItem> {
  const { run, workspace } = found;
  const verdict = await readReviewVerdict(run.plan.repo.root, run.runId, workspace.name);
  if (verdict === undefined) return { id: "review", level: "info", reason: "not reviewed" };
  if (verdict.status === "skipped") {
    return { id: "review", level: "info", reason: "not reviewed: the branch has no changes" };
  }
  if (verdict.status === "failed") {
    const again = conductorCommand(["review", workspace.name, "--run", run.runId]);
    return { id: "review", level: "warn", reason: `the review failed; try again: ${again}` };
  }
  if (verdict.head !== undefined && verdict.head !== head) {
    const again = conductorCommand(["review", workspace.name, "--run", run.runId]);
    return {
      id: "review",
      level: "warn",
      reason: `the review is of ${verdict.head.slice(0, 10)}, not of the branch's head; review again: ${again}`,
    };
  }
  const [p0, p1, p2, p3] = verdict.byPriority;
  const counts = verdict.byPriority
    .map((count, priority) => (count > 0 ? `${count} P${priority}` : ""))
    .filter(Boolean)
    .join(", ");
  const findings = counts === "" ? "no open findings" : `open findings: ${counts}`;
  if (verdict.correct === false || p0 + p1 > 0) {
    const said = verdict.correct === false ? "review says the patch is incorrect; " : "";
    return { id: "review", level: "block", reason: `${said}${findings}` };
  }
  if (p2 + p3 > 0) return { id: "review", level: "warn", reason: `reviewed; ${findings}` };
  if (verdict.correct === undefined) {
    return { id: "review", level: "warn", reason: `reviewed without a verdict; ${findings}` };
  }
  return { id: "review", level: "pass", reason: `review says the patch is correct; ${findings}` };
}

function markersItem({
  markers,
  truncated,
}: {
  markers: readonly AddedMarker[];
  truncated: boolean;
}): CheckItem {
  // A diff too long to read whole is scanned in part: never a pass, and it says so.
  const cut = truncated
    ? `; only the first ${MAX_SCANNED_DIFF_BYTES / (1024 * 1024)} MB of the diff were scanned (truncated), the rest was not`
    : "";
  if (markers.length === 0) {
    return {
      id: "added-markers",
      level: truncated ? "warn" : "pass",
      reason: `no TODO, FIXME, console.log, debugger or .only( added${cut}`,
    };
  }
  const blocking = markers.some(
    (marker) => BLOCKING_MARKERS.has(marker.marker) && marker.binary !== true,
  );
  const places = markers.map(
    (marker) =>
      `${marker.file}:${marker.line} ${marker.marker}${marker.binary ? " (a file with NUL bytes)" : ""}`,
  );
  return {
    id: "added-markers",
    level: blocking ? "block" : "warn",
    reason: `${plural(markers.length, "added line")} with markers: ${list(places)}${cut}`,
  };
}

function conflictsItem(forecast: ConflictForecast, name: string, baseRef: string): CheckItem {
  const entry = forecast.workspaces.find((candidate) => candidate.name === name);
  if (entry === undefined) {
    return { id: "conflicts", level: "info", reason: "nothing to merge, so no conflicts" };
  }
  return entry.againstBase.clean
    ? { id: "conflicts", level: "pass", reason: `merges cleanly into ${baseRef}` }
    : {
        id: "conflicts",
        level: "block",
        reason: `conflicts with ${baseRef} in ${list(entry.againstBase.files)}`,
      };
}

/**
 * Blocks when landing the branch would put a file where the checkout that has the base branch
 * checked out holds an ignored one: git would replace it without a word, so merge refuses, even
 * with --force. Undefined (no line) when nothing is in the way.
 */
async function ignoredFilesItem(
  root: string,
  checkout: string,
  base: { ref: string; commit: string },
  head: string,
): Promise<CheckItem | undefined> {
  // git reads the config of the repository the checkout's link names: an agent's, if changed.
  const relinked = await checkoutLinkChanges(root, checkout);
  if (relinked.length > 0) {
    return {
      id: "base-checkout",
      level: "block",
      reason: `${base.ref} is checked out in ${checkout}, whose link to the repository is not as git made it (${relinked.join("; ")})`,
    };
  }
  const merged = await mergeTree(root, base.commit, head);
  if (!merged.clean) return undefined;
  const ignored = await ignoredFilesInTheWay(checkout, base.commit, merged.tree);
  if (ignored.length === 0) return undefined;
  return {
    id: "ignored-files",
    level: "block",
    reason: `merging would overwrite ignored files of ${checkout}, where ${base.ref} is checked out: ${list(ignored)}`,
  };
}

/** The GitHub items of one workspace: its branch's pull request, or why there are none. */
async function gitHubItems(
  found: FoundWorkspace,
  head: string,
  access: GitHubAccess,
): Promise<CheckItem[]> {
  if (!access.ready) return [access.item];
  const { workspace, run } = found;
  const lookup = await workspacePullRequest(access.gh, found, head, access.run);
  if (lookup.found === false) {
    const open = conductorCommand(["pr", workspace.name, "--run", run.runId]);
    return [
      {
        id: "github",
        level: "info",
        reason: `no pull request for ${workspace.branch} (open one with: ${open})`,
      },
    ];
  }
  if (lookup.found === "error") {
    return [{ id: "github", level: "warn", reason: `GitHub not asked: ${lookup.message}` }];
  }
  if (lookup.pr.state === "MERGED") return pullRequestItems(lookup.pr, head, undefined, undefined);
  const activity = await reviewActivity(access.gh, lookup.pr, access.run);
  return activity.ok
    ? pullRequestItems(lookup.pr, head, activity.activity, undefined)
    : pullRequestItems(lookup.pr, head, undefined, activity.message);
}

/** [behind, ahead] of `head` against `base`. */
async function aheadBehind(root: string, base: string, head: string): Promise<[number, number]> {
  const out = await git(root, ["rev-list", "--left-right", "--count", `${base}...${head}`]);
  const [behind = "0", ahead = "0"] = out.trim().split(/\s+/);
  return [Number(behind), Number(ahead)];
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function list(items: readonly string[]): string {
  const shown = items.slice(0, SHOWN).join(", ");
  return items.length > SHOWN ? `${shown}, … (${items.length - SHOWN} more)` : shown;
}
