import { appendFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { relativeInside } from "../fs/is-inside.js";
import { replayCommits } from "../git/commit-replay.js";
import { type GitFilesLook, gitFilesChanged, HISTORY_FILES } from "../git/git-files.js";
import {
  attachHead,
  changedPaths,
  changedRefs,
  checkoutFingerprint,
  filesLargerThan,
  isAncestor,
  pathsTouched,
  type RefChange,
  type RepositorySnapshot,
  snapshotRefs,
  snapshotRepository,
  unstagePaths,
  updateRef,
} from "../git/integrity.js";
import { readSpotlightTrees, spotlightFootprint } from "../git/spotlight-footprint.js";
import { gitMessage, listWorktrees, samePath } from "../git/worktree.js";
import { DEFAULT_MAX_FILE_BYTES } from "../planner/plan.js";
import type { Plan } from "../planner/types.js";
import { ownOutputFiles } from "../process/own-output.js";
import { formatSize } from "../schema/size.js";
import { monotonicMs } from "../timers/monotonic.js";
import { keptOutOfCommits } from "./copy-files.js";
import { resetKeepingWork } from "./fresh-worktree.js";
import { changedGitFiles, gitFilesOf, shownGitFile } from "./git-files-guard.js";
import { isRunLive, loadRun } from "./load-run.js";
import type { RefLedger, RepositoryLook } from "./ref-ledger.js";
import { listRunIds } from "./run-store.js";
import { committedFilesWithSecrets, listSecretFiles } from "./secret-files.js";
import { commitsWithSecretWords, withoutSecrets } from "./secret-messages.js";
import type { StepContext } from "./steps/context.js";
import type { Failure, WorkspaceStatus } from "./types.js";
import { repairOwnWorktreeLink } from "./worktree-link-check.js";

/**
 * The one place that decides what a workspace's repository looks like after an agent step. The
 * agent is untrusted code with a shell: it may commit by itself (copied env files included), leave
 * HEAD detached or on another branch, rewrite its branch, move other refs or write into the main
 * checkout. Before the agent runs, {@link takeBaseline} records every ref and the main checkout's
 * status; afterwards {@link verifyAgentResult} repairs what can be repaired without losing
 * anything and fails the workspace, saying what happened, for the rest:
 *
 * - copied files and `.context/` are taken out of every commit since the start point (replayed
 *   with plumbing), so they never reach the branch;
 * - so are files holding a secret the run knows, taken out of the commits of the step, which
 *   then fails: the file stays in the worktree for the secret to be taken out of it;
 * - work done on a detached HEAD or another branch is brought onto the workspace branch when it
 *   descends from it, and the worktree is put back on the branch; otherwise the step fails;
 * - the branch must still contain what it held before the step (its start point included); if not,
 *   it is put back and the step fails;
 * - no other ref may change (refs of workspaces running meanwhile, of this run or another live
 *   one, and conductor's own `refs/conductor/` excepted); moved ones are put back when nobody
 *   moved them again, the agent's value kept under `refs/conductor/saved/`;
 * - the repository's git config and hooks (which git runs as code) must be unchanged; changed
 *   ones are put back as the run found them, the agent's version kept in the workspace's folder;
 * - the main checkout's status must be unchanged.
 *
 * Every repair and refusal is also written to the agent log.
 */

/**
 * What the repository looked like just before the agent started: a look of its own, or the look
 * a clean check took a moment before (see {@link RefLedger.recentLook}).
 */
export type AgentBaseline = RepositoryLook;

/**
 * Whose doing a verification judges: the agent's step, or the check script's, which runs the
 * agent's code (its tests) with the same shell and the same repository.
 */
export interface Actor {
  step: "agent" | "check";
  /** How messages name it: "agent" or "check script". */
  noun: string;
  /**
   * Whether a change of the repository's git config and hooks is its doing. Not for a check:
   * honest ones write `.git/config` (`git submodule update --init`, husky's first install).
   */
  ownsGitFiles: boolean;
}

export const AGENT: Actor = { step: "agent", noun: "agent", ownsGitFiles: true };
export const CHECK_SCRIPT: Actor = { step: "check", noun: "check script", ownsGitFiles: false };

/** How messages name the actor as the subject of a sentence: "the agent". */
function named(actor: Actor): string {
  return `the ${actor.noun}`;
}

/**
 * The git files that changed in the step and count as the actor's doing: all of them for an
 * agent, only the history files for a check script (no honest test writes those).
 */
function changedByActor(actor: Actor, before: GitFilesLook, now: GitFilesLook): string[] {
  return gitFilesChanged(before, now).filter(
    (entry) => actor.ownsGitFiles || HISTORY_FILES.includes(entry),
  );
}

/** What the verification decided. */
export interface AgentVerdict {
  /** Why the workspace cannot be accepted; undefined when it can (possibly after repairs). */
  failure: Failure | undefined;
  /** What conductor repaired, one sentence each. */
  repairs: string[];
  /** The commit HEAD was on when the verification read it, before any repair. */
  head: string;
}

/** Conductor's own refs (saved work, kept branches): they move during runs by design. */
const CONDUCTOR_REFS = "refs/conductor/";

/**
 * Leaves out of `touched` the paths `conductor spotlight` changed in the main checkout while the
 * agent ran (`--watch` brings the agent's own edits there): showing them is what the user asked.
 */
async function withoutSpotlight(
  root: string,
  baseline: AgentBaseline,
  touched: string[],
): Promise<string[]> {
  if (touched.length === 0) return touched;
  const now = await readSpotlightTrees(root);
  if (baseline.spotlight === undefined && now === undefined) return touched;
  const footprint = await spotlightFootprint(root, [baseline.spotlight, now]);
  // git status shows a new untracked folder as `folder/`: Spotlight's if it made files in it.
  const paths = [...footprint];
  return touched.filter(
    (file) =>
      !footprint.has(file) &&
      !(file.endsWith("/") && paths.some((shown) => shown.startsWith(file))),
  );
}

/** Records every ref and the main checkout's status before the agent starts (one process). */
export async function takeBaseline(ctx: StepContext): Promise<AgentBaseline> {
  return (await ctx.refLedger.settledLook()) ?? (await lookAtRepository(ctx)).look;
}

/** A {@link RepositoryLook}, with the worktree's HEAD and status when one is named. */
async function lookAtRepository(
  ctx: StepContext,
  worktree?: string,
  read?: GitFilesLook,
): Promise<{ look: RepositoryLook; worktree: RepositorySnapshot["worktree"] }> {
  const root = ctx.plan.repo.root;
  const gitFiles = read ?? (await gitFilesOf(ctx));
  ctx.refLedger.trustedGitFiles(gitFiles);
  // Statuses first: a workspace that finishes while the refs are read must still count as
  // running then, or the commit it just made would look like someone else's doing.
  const statuses = workspaceStatuses(ctx);
  const takenAt = monotonicMs();
  const takenAtTime = Date.now();
  const [snapshot, spotlight] = await Promise.all([
    snapshotRepository(root, {
      excluding: notTheAgentsDoing(ctx),
      ...(worktree === undefined ? {} : { worktree }),
    }),
    readSpotlightTrees(root),
  ]);
  const { refs, checkout } = snapshot;
  return {
    look: { refs, checkout, gitFiles, spotlight, statuses, takenAt, takenAtTime },
    worktree: snapshot.worktree,
  };
}

/**
 * Checks the repository after the agent step against `baseline`; repairs what is safe. A check
 * that finds nothing to repair or refuse offers its look to the next agent to start.
 */
export async function verifyAgentResult(
  ctx: StepContext,
  baseline: AgentBaseline,
  actor: Actor = AGENT,
): Promise<AgentVerdict> {
  const check = ctx.refLedger.checkStarted();
  let clean: RepositoryLook | undefined;
  try {
    const { verdict, look } = await checkAgentResult(ctx, baseline, actor);
    if (verdict.failure === undefined && verdict.repairs.length === 0) clean = look;
    return verdict;
  } finally {
    ctx.refLedger.checkEnded(check, clean);
  }
}

async function checkAgentResult(
  ctx: StepContext,
  baseline: AgentBaseline,
  actor: Actor,
): Promise<{ verdict: AgentVerdict; look: RepositoryLook }> {
  const { workspace } = ctx;
  const who = named(actor);
  const whileRunning = `this ${actor.noun}`;
  const root = ctx.plan.repo.root;
  const worktree = workspace.path;
  const branchRef = `refs/heads/${workspace.branch}`;
  // The git files first, and put back before any git runs: git would run a planted fsmonitor.
  const gitFilesNow = await gitFilesOf(ctx);
  const gitChanged = changedByActor(actor, baseline.gitFiles, gitFilesNow);
  const gitFilesProblem =
    gitChanged.length === 0
      ? undefined
      : changedGitFiles(ctx, baseline.gitFiles, gitFilesNow, gitChanged);
  // Then the worktree's link to the repository: git there would read the config of whatever
  // repository its .git names.
  const linkRepairs = await repairOwnWorktreeLink(ctx);
  const { look, worktree: read } = await lookAtRepository(ctx, worktree, gitFilesNow);
  const { refs, checkout } = look;
  if (read === undefined) throw new Error("internal error: the worktree was not read");
  const { head } = read;
  const problems: string[] = [...linkRepairs];
  const repairs: string[] = [];
  const handled = new Set<string>([branchRef]);
  const before = baseline.refs.get(branchRef)?.oid ?? ctx.state().startCommit;
  const start = ctx.state().startCommit ?? before;
  let tip = refs.get(branchRef)?.oid;
  // Whether the worktree's HEAD is on the workspace branch (read so, or put back in step 1).
  let attached = head.ref === branchRef;

  // 1. HEAD must be on the workspace branch.
  if (head.ref !== branchRef) {
    const where =
      head.ref === undefined
        ? `a detached HEAD at ${short(head.commit)}`
        : `${head.ref.replace(/^refs\/heads\//, "branch ")} (${short(head.commit)})`;
    const base = tip ?? before;
    // A branch the agent made for the workspace's own work (`switch -c`, `branch -m`) is this
    // workspace's business; claimed first, so that the checks of other workspaces never take
    // it for a foreign change while it is being dealt with.
    const madeByAgent =
      head.ref !== undefined && !baseline.refs.has(head.ref) && !isLiveRef(ctx, baseline, head.ref);
    if (madeByAgent && head.ref !== undefined) {
      ctx.refLedger.claim(head.ref);
      handled.add(head.ref);
    }
    if (base !== undefined && (await isAncestor(worktree, base, head.commit))) {
      await updateRef(root, branchRef, head.commit, tip, `conductor: ${who}'s work`);
      await attachHead(worktree, branchRef);
      attached = true;
      tip = head.commit;
      repairs.push(`${who} left its work on ${where}; it is now on ${workspace.branch}`);
      if (madeByAgent && head.ref !== undefined) {
        // Its commits are on the workspace branch now: the name holds nothing of its own.
        await updateRef(root, head.ref, undefined, head.commit, `conductor: ${who}'s branch name`);
        repairs.push(`removed ${head.ref}, which ${who} made for this work`);
      }
    } else {
      // Put back on its branch, as after a rewrite (step 2): a follow-up agent would otherwise
      // start from the same place and fail the same way. Nothing is lost: commits the branch
      // lacks are kept under a saved ref first, and the worktree's state under another. Where
      // that cannot be done, the worktree stays as the agent left it, to be looked at.
      let kept = "";
      let back = `: look at it in ${worktree}`;
      if (base !== undefined) {
        try {
          if (!(await isAncestor(worktree, head.commit, base)))
            kept = `; its commits there are kept as ${await saveRef(ctx, "head", head.commit, who)}`;
          await attachHead(worktree, branchRef);
          attached = true;
          back = `; HEAD is back on ${workspace.branch}${await worktreeBackOnBranch(ctx, attached)}`;
        } catch (error) {
          back = `; it stays there (${gitMessage(error)}): look at it in ${worktree}`;
        }
      }
      problems.push(
        `${who} left the worktree on ${where}, which does not contain ${workspace.branch} (${short(base ?? "")}); nothing was committed${kept}${back}`,
      );
      tip = undefined;
    }
  }

  // 2. The branch must still hold what it held before the agent ran (its start point included).
  if (tip !== undefined && before !== undefined && tip !== before) {
    if (!(await isAncestor(worktree, before, tip))) {
      const lostStart = start !== undefined && !(await isAncestor(worktree, start, tip));
      const saved = savedRef(ctx, "branch");
      await updateRef(root, saved, tip, undefined, `conductor: ${who}'s rewritten branch`);
      await updateRef(root, branchRef, before, tip, `conductor: undo ${who}'s rewrite`);
      const files = await worktreeBackOnBranch(ctx, attached);
      problems.push(
        lostStart
          ? `${workspace.branch} no longer contains its start point ${short(start ?? "")} (${who} rewrote history, e.g. git reset); the branch was put back to ${short(before)}, ${who}'s version is kept as ${saved}${files}`
          : `${who} dropped commits of ${workspace.branch} (history rewritten); the branch was put back to ${short(before)}, ${who}'s version is kept as ${saved}${files}`,
      );
      tip = undefined;
    }
  }

  // 3. Copied files and .context/ never reach the branch.
  const keptOut = keptOutOfCommits(ctx.state().copied, ctx.state().seed?.folders);
  if (tip !== undefined && start !== undefined && tip !== start) {
    const touched = await pathsTouched(worktree, start, tip, keptOut);
    if (touched.length > 0) {
      const replayed = await replayCommits(worktree, { from: start, to: tip, paths: keptOut });
      await updateRef(root, branchRef, replayed.tip, tip, "conductor: keep copied files out");
      await unstagePaths(worktree, keptOut);
      tip = replayed.tip;
      repairs.push(
        `took ${touched.join(", ")} out of ${replayed.rewritten} commit${replayed.rewritten === 1 ? "" : "s"} ${who} made (copied files and .context/ are never committed)`,
      );
    }
  }

  // 3b, 3c. Nor do secrets, in the commits the agent made in this step (earlier ones were looked
  // at after their own step). A try cut off by a killed conductor left commits no verification
  // looked at: from the start.
  const since = ctx.cutOff ? start : (before ?? start);
  const limit = ctx.plan.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  if (tip !== undefined && since !== undefined && tip !== since) {
    const range = { from: since, to: tip, keptOut, limit };
    const kept = await secretsOutOfCommits(ctx, actor, range, attached).catch(
      async (error: unknown) => {
        // Whatever stopped the rewrite (a commit git will not make again), the commits stay
        // unverified: off the branch, which no later step would look at them on.
        const why = `could not take secrets out of the commits ${who} made (${gitMessage(error)})`;
        return {
          tip: undefined,
          problems: [await setAside(ctx, actor, range, attached, why)],
          repairs: [],
        };
      },
    );
    tip = kept.tip;
    problems.push(...kept.problems);
    repairs.push(...kept.repairs);
  }

  // 3d. What the agent committed by itself passes the same size limit as conductor's commit.
  if (tip !== undefined && since !== undefined && tip !== since) {
    const large = await filesLargerThan(worktree, since, tip, limit);
    if (large.length > 0) {
      const list = large.map((entry) => `${entry.file} (${formatSize(entry.bytes)})`).join(", ");
      problems.push(
        `${who} committed ${list}, larger than workspaces.max_file_size (${formatSize(limit)}); the commits stay on ${workspace.branch} for you to look at: take the file out of them (or raise workspaces.max_file_size) before you open a pull request`,
      );
    }
  }

  // 4. No other ref of the repository changed, as seen here or by the checks of workspaces whose
  // agents ran at the same time.
  const foreign = await foreignChanges(
    ctx,
    baseline,
    look,
    changedRefs(baseline.refs, refs),
    handled,
  );
  for (const change of foreign) {
    // A finished workspace's branch that lost the commit its own step left (deleted, rewound,
    // replaced) goes back there; one built on (it may be your commit in its worktree) is only
    // reported.
    const committed = ctx.refLedger.committedBefore(change.ref, look.takenAt);
    const safe =
      committed !== undefined
        ? change.after === undefined || !(await isAncestor(root, committed, change.after))
        : replacesObjects(change) ||
          (restorable(ctx, change) && (await movedToAgentsWork(root, change, head.commit)));
    // A look taken before conductor made the branch (a workspace prepared after this agent
    // started) has no value for it: the agent moved it from where its workspace's commit left it.
    const moved =
      change.before === undefined && committed !== undefined
        ? { ...change, before: committed }
        : change;
    const description = await restoreRef(ctx, actor, moved, safe, committed);
    ctx.refLedger.record({
      ref: change.ref,
      kind: "ref",
      description,
      foundBy: workspace.name,
      foundAt: monotonicMs(),
    });
    problems.push(description);
  }
  // 4b. The repository's git config and hooks were as they were (checked, and put back, first).
  if (gitFilesProblem !== undefined) {
    for (const entry of gitChanged) {
      ctx.refLedger.record({
        ref: shownGitFile(entry),
        kind: "git-file",
        description: gitFilesProblem,
        foundBy: workspace.name,
        foundAt: monotonicMs(),
      });
    }
    problems.push(gitFilesProblem);
  }
  // 4c. The run's record holds what conductor wrote (put back when anything else wrote to it).
  const recordProblem = ctx.checkRecord();
  if (recordProblem !== undefined) {
    ctx.refLedger.record({
      ref: RECORD,
      kind: "record",
      description: recordProblem,
      foundBy: workspace.name,
      foundAt: monotonicMs(),
    });
    problems.push(recordProblem);
  }
  const seen = new Set([
    ...foreign.map((change) => change.ref),
    ...gitChanged.map(shownGitFile),
    ...(recordProblem === undefined ? [] : [RECORD]),
  ]);
  for (const other of ctx.refLedger.foundByOthersSince(workspace.name, baseline.takenAt)) {
    // A check script is held only to the history files (see Actor), whoever found them changed.
    const excused =
      other.kind === "git-file" &&
      !actor.ownsGitFiles &&
      !HISTORY_FILES.some((entry) => other.ref === shownGitFile(entry));
    if (seen.has(other.ref) || excused) continue;
    seen.add(other.ref);
    problems.push(
      `while ${whileRunning} ran, ${other.description} (found by the verification of ${other.foundBy}; conductor cannot tell which of the agents or check scripts running then did it)`,
    );
  }

  // 5. The main checkout is as it was (looked at again when a moved branch was put back).
  const restored = foreign.length > 0;
  const checkoutNow = restored ? await checkoutFingerprint(root, notTheAgentsDoing(ctx)) : checkout;
  const touchedCheckout = await withoutSpotlight(
    root,
    baseline,
    changedPaths(baseline.checkout, checkoutNow),
  );
  if (touchedCheckout.length > 0) {
    const shown = touchedCheckout
      .slice(0, 10)
      .map((file) => (file === "(HEAD)" ? "its HEAD" : file));
    problems.push(
      `the main checkout changed while ${who} ran (${shown.join(", ")}${touchedCheckout.length > 10 ? ", …" : ""}); conductor leaves it as it is`,
    );
  }

  await logVerdict(ctx, actor, repairs, problems);
  if (problems.length === 0)
    return { verdict: { failure: undefined, repairs, head: head.commit }, look };
  return {
    verdict: {
      head: head.commit,
      failure: {
        reason: "integrity",
        step: actor.step,
        message: problems.join("; "),
        logPath: ctx.paths.logFile(workspace.name, actor.step),
      },
      repairs,
    },
    look,
  };
}

/** The agent's commits of this step, and what 3a left out of them. */
interface StepCommits {
  from: string;
  to: string;
  keptOut: readonly string[];
  limit: number;
}

/**
 * Takes secrets the run knows out of the commits of `range`: files holding one are taken out of
 * the commits and left in the worktree (a failure: the branch holds the work without them), and
 * one in a commit's words (message, identity, any other header) is replaced by [redacted] (a
 * repair: the work is as it was). Where a secret is still there after, the commits are set aside.
 * Returns the branch's tip after (undefined when set aside) and what was said.
 */
async function secretsOutOfCommits(
  ctx: StepContext,
  actor: Actor,
  range: StepCommits,
  attached: boolean,
): Promise<{ tip: string | undefined; problems: string[]; repairs: string[] }> {
  const worktree = ctx.workspace.path;
  const root = ctx.plan.repo.root;
  const branchRef = `refs/heads/${ctx.workspace.branch}`;
  const who = named(actor);
  const guard = ctx.commitGuard();
  const problems: string[] = [];
  const repairs: string[] = [];
  // What holds a secret in the commits from the step's start to `to`: files, then words.
  const filesUpTo = (to: string) =>
    committedFilesWithSecrets(
      worktree,
      { from: range.from, to },
      range.keptOut,
      range.limit,
      guard,
    );
  const wordsUpTo = (to: string) =>
    commitsWithSecretWords(worktree, { from: range.from, to }, guard);
  let tip = range.to;
  const files = await filesUpTo(tip);
  if (files.length > 0) {
    const paths = files.map((entry) => entry.file);
    const replayed = await replayCommits(worktree, { from: range.from, to: tip, paths });
    await updateRef(root, branchRef, replayed.tip, tip, "conductor: keep secrets out");
    await unstagePaths(worktree, paths);
    tip = replayed.tip;
    const one = files.length === 1;
    const commits = `${replayed.rewritten} commit${replayed.rewritten === 1 ? "" : "s"}`;
    problems.push(
      `${who} committed ${listSecretFiles(files, (text) => ctx.redact(text))}, which ${one ? "holds a secret" : "hold secrets"}; ${one ? "it was" : "they were"} taken out of the ${commits} ${who} made and ${one ? "is" : "are"} still in the worktree: take the secret out of ${one ? "it" : "them"} before committing ${one ? "it" : "them"} (conductor commits no file that holds a known secret)`,
    );
  }
  const words = await wordsUpTo(tip);
  if (words.commits.size > 0) {
    const replayed = await replayCommits(worktree, {
      from: range.from,
      to: tip,
      metadata: withoutSecrets(guard),
      remake: words.commits,
    });
    await updateRef(root, branchRef, replayed.tip, tip, "conductor: keep secrets out");
    tip = replayed.tip;
    const held = words.commits.size;
    const names = words.names.length === 0 ? "a known secret" : words.names.join(", ");
    repairs.push(
      `${who} wrote ${names} into the words of ${held} commit${held === 1 ? "" : "s"} ${who} made (message, author, committer or other headers); ${held === 1 ? "it was" : "they were"} made again with the secret replaced by [redacted]`,
    );
  }
  if (files.length === 0 && words.commits.size === 0) return { tip, problems, repairs };
  // Looked at again as the branch now is: what was said above must be true of it.
  const left = (await filesUpTo(tip)).length + (await wordsUpTo(tip)).commits.size;
  if (left === 0) return { tip, problems, repairs };
  const why = `a secret was still in the commits ${who} made after conductor took it out of them`;
  const current = { ...range, to: tip };
  return {
    tip: undefined,
    problems: [await setAside(ctx, actor, current, attached, why)],
    repairs: [],
  };
}

/**
 * Puts the branch back to where the step began, the commits of `range` kept under
 * `refs/conductor/saved/` (never pushed by conductor), and the worktree with it. Says so, after
 * `why`, as a failure's sentence.
 */
async function setAside(
  ctx: StepContext,
  actor: Actor,
  range: StepCommits,
  attached: boolean,
  why: string,
): Promise<string> {
  const root = ctx.plan.repo.root;
  const branchRef = `refs/heads/${ctx.workspace.branch}`;
  const who = named(actor);
  const saved = savedRef(ctx, "secret-commits");
  // The branch may already hold a partly rewritten version: that is what is set aside.
  const now = (await snapshotRefs(root, [branchRef])).get(branchRef)?.oid ?? range.to;
  await updateRef(root, saved, now, undefined, `conductor: ${who}'s commits that held a secret`);
  await updateRef(root, branchRef, range.from, now, "conductor: keep secrets out");
  const files = await worktreeBackOnBranch(ctx, attached);
  return `${why}; ${ctx.workspace.branch} was put back to ${short(range.from)}, ${who}'s commits are kept as ${saved} (do not push it)${files}`;
}

/**
 * After a rewritten branch was put back, brings the worktree's index and files back to it too
 * (uncommitted changes kept on a ref first): they still hold the rewritten history, and a
 * follow-up (`conductor continue`) would commit its deletions. Says what it did, as the end of
 * the failure's sentence.
 */
async function worktreeBackOnBranch(ctx: StepContext, onBranch: boolean): Promise<string> {
  if (!onBranch) return "";
  try {
    const ref = savedRef(ctx, "worktree");
    const saved = await resetKeepingWork(ctx, {
      ref,
      message: `conductor: uncommitted work of ${ctx.workspace.name} on its rewritten history`,
    });
    return `; the worktree was reset to it${saved === undefined ? "" : `, its uncommitted changes kept as ${ref}`}`;
  } catch (error) {
    return `; the worktree could not be reset to it (${gitMessage(error)}): reset it before going on`;
  }
}

/** Changes that no workspace running meanwhile, here or in another live run, accounts for. */
async function foreignChanges(
  ctx: StepContext,
  baseline: AgentBaseline,
  look: RepositoryLook,
  changes: readonly RefChange[],
  handled: ReadonlySet<string>,
): Promise<RefChange[]> {
  const unexplained = changes.filter(
    (change) =>
      !handled.has(change.ref) &&
      !change.ref.startsWith(CONDUCTOR_REFS) &&
      !ctx.refLedger.isClaimed(change.ref) &&
      !ctx.refLedger.isConductorsChange(change, baseline.takenAt) &&
      (movedAfterCommit(ctx, look, change) || !isLiveRef(ctx, baseline, change.ref)),
  );
  if (unexplained.length === 0) return [];
  // Only now, on the rare path, look at other worktrees and other conductor runs.
  const others = new Set([
    ...(await branchesOfOtherLiveRuns(ctx, baseline.takenAtTime)),
    ...(await checkedOutByLiveWorkspaces(ctx, baseline)),
  ]);
  return unexplained.filter(
    (change) => movedAfterCommit(ctx, look, change) || !others.has(change.ref),
  );
}

/**
 * Whether `change` is a workspace branch of this run that `look` found elsewhere than the
 * workspace's own commit step left it before: its agent was done by then, so another agent moved
 * it, though that workspace was running (and its branch excused) when this step began.
 */
function movedAfterCommit(ctx: StepContext, look: RepositoryLook, change: RefChange): boolean {
  const committed = ctx.refLedger.committedBefore(change.ref, look.takenAt);
  return committed !== undefined && committed !== change.after;
}

/**
 * Branches HEAD is on in the worktrees of this run's other live workspaces: a name their agent
 * made for their own work (`git switch -c`), which their own check takes care of.
 */
async function checkedOutByLiveWorkspaces(
  ctx: StepContext,
  baseline: AgentBaseline,
): Promise<string[]> {
  const live = ctx.plan.workspaces.filter(
    (other) => other.name !== ctx.workspace.name && wasLive(ctx, baseline, other.name),
  );
  if (live.length === 0) return [];
  return (await listWorktrees(ctx.plan.repo.root))
    .filter((entry) => entry.branch !== undefined)
    .filter((entry) => live.some((other) => samePath(other.path, entry.path)))
    .map((entry) => `refs/heads/${entry.branch}`);
}

/** Whether `ref` is the branch of a workspace of this run that was running during the step. */
function isLiveRef(ctx: StepContext, baseline: AgentBaseline, ref: string): boolean {
  return ctx.plan.workspaces.some(
    (other) =>
      other.name !== ctx.workspace.name &&
      `refs/heads/${other.branch}` === ref &&
      wasLive(ctx, baseline, other.name),
  );
}

/** Whether the workspace `name` was running at some moment since the baseline was taken. */
function wasLive(ctx: StepContext, baseline: AgentBaseline, name: string): boolean {
  const then = baseline.statuses.get(name);
  const now = ctx.runState().workspaces[name]?.status;
  return then === "running" || now === "running" || then !== now;
}

/**
 * Branches (full ref names) of the plans of other conductor runs that worked at some moment since
 * `since` (epoch ms): running now, or with events recorded since (one that finished meanwhile).
 */
async function branchesOfOtherLiveRuns(ctx: StepContext, since: number): Promise<Set<string>> {
  const branches = new Set<string>();
  const root = ctx.plan.repo.root;
  for (const runId of listRunIds(root)) {
    if (runId === ctx.paths.runId) continue;
    const run = await loadRun(root, runId).catch(() => undefined);
    if (run === undefined) continue;
    const live = isRunLive(run);
    // Event times have millisecond precision; a second of slack covers clock rounding.
    if (!live && Date.parse(run.updatedAt) < since - 1000) continue;
    for (const workspace of run.plan.workspaces) {
      // An archived workspace works no more: a new run of the same file took its branch name.
      if (run.workspaces[workspace.name]?.archived !== undefined) continue;
      branches.add(`refs/heads/${workspace.branch}`);
    }
  }
  return branches;
}

/**
 * Puts a ref the agent changed back (to `to`, by default its value before the step), when that
 * is safe: an ordinary local ref (not a symbolic or remote-tracking one) that still has the value
 * the agent left. The agent's value is kept under `refs/conductor/saved/`. Returns the sentence
 * for the failure message.
 */
async function restoreRef(
  ctx: StepContext,
  actor: Actor,
  change: RefChange,
  safe: boolean,
  to: string | undefined = change.before,
): Promise<string> {
  const root = ctx.plan.repo.root;
  const who = named(actor);
  const what =
    change.before === undefined
      ? `${change.ref} was created (at ${short(change.after ?? "")})`
      : change.after === undefined
        ? `${change.ref} was deleted (it was at ${short(change.before)})`
        : `${change.ref} moved from ${short(change.before)} to ${short(change.after)}`;
  if (!safe) return `${what}; conductor leaves it as it is`;
  try {
    let kept = "";
    if (change.after !== undefined) {
      const saved = savedRef(ctx, `moved/${change.ref}`);
      await updateRef(root, saved, change.after, undefined, `conductor: a ref ${who} moved`);
      kept = `, ${who}'s value is kept as ${saved}`;
    }
    await updateRef(root, change.ref, to, change.after, `conductor: undo ${who}'s move`);
    ctx.refLedger.putBack(change.ref, to);
    const back =
      to === change.before
        ? change.before === undefined
          ? "it was removed"
          : "it was moved back"
        : `it was put back to ${short(to ?? "")}, where its workspace's commit left it`;
    return `${what}; ${back}${kept}`;
  } catch {
    return `${what}; it changed again since, so conductor leaves it as it is`;
  }
}

/**
 * Whether conductor may put a changed ref back: not one created by the agent (it may be the
 * user's), not a symbolic or remote-tracking one (a fetch or push is not undone locally), not the
 * stash (its entries are its reflog, which a reset would only lengthen), not a branch of this
 * run's workspaces (conductor moves those itself).
 */
function restorable(ctx: StepContext, change: RefChange): boolean {
  return (
    change.before !== undefined &&
    !ctx.plan.workspaces.some((other) => `refs/heads/${other.branch}` === change.ref) &&
    !change.symbolic &&
    !change.ref.startsWith("refs/remotes/") &&
    change.ref !== "refs/stash"
  );
}

/**
 * Whether a ref made or moved while the step ran is a replace ref (`git replace`): git then shows
 * the object it names as another everywhere in the repository, the user's branches and checkout
 * included (a rewritten history as if whole, a commit with other files). It is put back whoever
 * made it, the replacement kept under refs/conductor/saved/, so nothing is lost either way.
 */
function replacesObjects(change: RefChange): boolean {
  return change.ref.startsWith("refs/replace/") && change.after !== undefined && !change.symbolic;
}

/**
 * Whether a moved ref now points into the agent's own history (`git update-ref refs/heads/main
 * HEAD`): then the agent moved it, and putting it back undoes only the agent. A ref moved
 * elsewhere may be the user's own commit in the main checkout, made while the agent ran: moving
 * it back would leave the user's files ahead of their branch, so it is reported, not touched.
 */
async function movedToAgentsWork(
  root: string,
  change: RefChange,
  agentHead: string,
): Promise<boolean> {
  if (change.after === undefined) return true; // a deleted ref is recreated: nothing is lost
  if (agentHead === "") return false;
  return isAncestor(root, change.after, agentHead).catch(() => false);
}

/** A ref under `refs/conductor/saved/<run>/<workspace>/` for what this try's agent left. */
function savedRef(ctx: StepContext, what: string): string {
  return `refs/conductor/saved/${ctx.paths.runId}/${ctx.workspace.name}/${ctx.state().tries}-${what}`;
}

/** Keeps `commit` under a new saved ref of the workspace's try; resolves with the ref. */
async function saveRef(
  ctx: StepContext,
  what: string,
  commit: string,
  who: string,
): Promise<string> {
  const ref = savedRef(ctx, what);
  await updateRef(ctx.plan.repo.root, ref, commit, undefined, `conductor: ${who}'s ${what}`);
  return ref;
}

function workspaceStatuses(ctx: StepContext): Map<string, WorkspaceStatus> {
  const statuses = new Map<string, WorkspaceStatus>();
  for (const [name, state] of Object.entries(ctx.runState().workspaces))
    statuses.set(name, state.status);
  return statuses;
}

/** How the ledger names the run's record (see RecordGuard). */
const RECORD = "(the run's events.jsonl)";

/** {@link notTheAgentsDoing} by plan: the same for every look of a run. */
const notTheAgentsDoingByPlan = new WeakMap<Plan, string[]>();

/**
 * Paths inside the main checkout that conductor itself changes during a run, left out of its
 * looks: folders it fills (a workspaces folder placed in the repository) and the files its own
 * output goes to (`conductor run > run.log`, `conductor run | tee run.log`). Worked out once per
 * plan, at the run's first look, before any agent has started: every look of every workspace
 * asks, and resolving each workspace's path each time made it quadratic.
 */
function notTheAgentsDoing(ctx: StepContext): string[] {
  const known = notTheAgentsDoingByPlan.get(ctx.plan);
  if (known !== undefined) return known;
  const root = ctx.plan.repo.root;
  const paths = new Set<string>();
  const inside = (target: string) => {
    const relative = relativeInside(root, target);
    if (relative !== undefined && relative !== "") paths.add(relative.split(path.sep).join("/"));
  };
  for (const other of ctx.plan.workspaces) inside(path.dirname(other.path));
  for (const file of ownOutputFiles()) inside(file);
  const found = [...paths];
  notTheAgentsDoingByPlan.set(ctx.plan, found);
  return found;
}

async function logVerdict(
  ctx: StepContext,
  actor: Actor,
  repairs: readonly string[],
  problems: readonly string[],
): Promise<void> {
  if (repairs.length === 0 && problems.length === 0) return;
  const logFile = ctx.paths.logFile(ctx.workspace.name, actor.step);
  await mkdir(path.dirname(logFile), { recursive: true });
  // Redacted: a problem may quote what the agent wrote (a .git file's content).
  const lines = [
    ...repairs.map((line) => `conductor: ${ctx.redact(line)}`),
    ...problems.map((line) => `conductor: refused: ${ctx.redact(line)}`),
  ];
  await appendFile(logFile, `\n${lines.join("\n")}\n`);
}

function short(commit: string): string {
  return commit.slice(0, 10);
}
