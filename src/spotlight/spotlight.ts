import { existsSync } from "node:fs";
import { StateError, UnsafeOperationError, UsageError } from "../errors.js";
import { pathsInTheWay } from "../git/in-the-way.js";
import { mergeTree } from "../git/merge-tree.js";
import { runGit } from "../git/run-git.js";
import { changedPaths } from "../git/tree-paths.js";
import { worktreeGitDir } from "../git/worktree-link.js";
import { conductorCommand, gitCommand } from "../hint/command.js";
import {
  LEFT_REF,
  PREVIOUS_REF,
  readMarker,
  removeMarker,
  SAVED_REF,
  type SpotlightMarker,
  type SpotlightPaths,
  spotlightPaths,
  withSpotlightLock,
  writeMarker,
} from "./marker.js";
import {
  type CheckoutSnapshot,
  commitTree,
  dropIndex,
  moveCheckout,
  snapshotCheckout,
  stagedTree,
} from "./trees.js";

/**
 * Spotlight: a workspace's changes shown in the main checkout as uncommitted changes, and the
 * main checkout restored exactly as it was afterwards. The main checkout's own state is saved to
 * {@link SAVED_REF} and the marker written before any file changes; every change of files is one
 * `git read-tree -m -u` between two trees on a temporary index, recorded in the marker before it
 * starts, so a SIGKILL at any moment leaves a checkout the next command can account for.
 */

/** The workspace Spotlight shows: where its files are and where its changes start. */
export interface SpotlightSource {
  workspace: string;
  runId: string;
  worktree: string;
  /** The commit (or ref) the workspace's changes are measured from. */
  start: string;
  /** Folders conductor seeded into the worktree (a symlink one is not ignored): never shown. */
  exclude?: readonly string[];
}

/** What a Spotlight command did. */
export interface SpotlightChange {
  workspace: string;
  /** Files of the workspace's changes now shown in the main checkout. */
  files: number;
  /** Paths the main checkout changed in this step (empty when nothing had to change). */
  changed: string[];
  /** The tree of the workspace's files that was shown (what `--watch` compares with). */
  workspaceTree: string;
}

/** Whether something (a `serve`) makes showing this workspace unsafe; checked before each change. */
export type ServeProbe = (source: SpotlightSource) => Promise<boolean>;

/**
 * Shows `source` in the main checkout at `root`: starts Spotlight (saving the checkout's own
 * state first), switches to it from another workspace, or brings it up to date when it is shown
 * already. Refuses, changing nothing, when the changes conflict with the checkout's own state,
 * would overwrite an ignored file, or when `isServed` says the workspace is being served.
 */
export async function showWorkspace(
  root: string,
  source: SpotlightSource,
  isServed: ServeProbe,
): Promise<SpotlightChange> {
  const paths = await spotlightPaths(root);
  return withSpotlightLock(paths, async () => {
    if (await isServed(source)) {
      throw new UnsafeOperationError(
        `${source.workspace} is being served (conductor serve); Spotlight would run a second copy of its changes`,
        { hint: "Stop its serve (Ctrl-C where it runs), then try again." },
      );
    }
    const marker = await readMarker(paths);
    if (marker === undefined) return begin(root, paths, source);
    return moveTo(root, paths, marker, source);
  });
}

/** Brings the shown workspace's latest changes into the main checkout (for `--watch`). */
export async function syncSpotlight(root: string): Promise<SpotlightChange> {
  const paths = await spotlightPaths(root);
  return withSpotlightLock(paths, async () => {
    const marker = await requireMarker(paths);
    return moveTo(root, paths, marker, sourceOf(marker));
  });
}

/** What {@link endSpotlight} may override. */
export interface EndOptions {
  /**
   * Restore even though the main checkout was edited, or HEAD or the index changed, while
   * Spotlight was on; what the checkout held is kept on {@link LEFT_REF} first.
   */
  force: boolean;
}

/** What `--off` did. */
export interface SpotlightEnd {
  workspace: string;
  /** Paths put back. */
  restored: string[];
  /** Set when edits made meanwhile were set aside (with --force). */
  leftRef: string | undefined;
}

/** Ends Spotlight: the main checkout's files (and, if it changed, its index) as they were. */
export async function endSpotlight(root: string, options: EndOptions): Promise<SpotlightEnd> {
  const paths = await spotlightPaths(root);
  return withSpotlightLock(paths, async () => {
    const marker = await requireMarker(paths);
    const head = await currentHead(root);
    const staged = await stagedTree(root);
    const problems: string[] = [];
    if (head !== marker.head) {
      problems.push(
        `HEAD moved from ${marker.head.slice(0, 10)} to ${head?.slice(0, 10) ?? "nothing"}`,
      );
    }
    if (staged !== marker.staged) problems.push("the index (what is staged) changed");
    const snapshot = await snapshotCheckout(root, marker.applied);
    try {
      const { edited, torn } = await editedPaths(root, marker, snapshot.tree);
      if (edited.length > 0) problems.push(`files were edited: ${listed(edited)}`);
      let leftRef =
        torn.length > 0
          ? await keepLeft(
              root,
              snapshot.tree,
              head,
              `conductor spotlight: the main checkout with ${torn.length} files cut off by a kill`,
            )
          : undefined;
      if (problems.length > 0) {
        if (!options.force) {
          throw new UnsafeOperationError(
            `the main checkout changed while Spotlight showed ${marker.workspace}: ${problems.join("; ")}`,
            {
              hint: `Undo that, or run \`${conductorCommand(["spotlight", "--off", "--force"])}\` to restore it anyway (what it holds now is kept on ${LEFT_REF}).`,
            },
          );
        }
        leftRef = await keepLeft(
          root,
          snapshot.tree,
          head,
          `conductor spotlight: the main checkout when Spotlight of ${marker.workspace} was ended by force`,
        );
      }
      const restored = await changedPaths(root, snapshot.tree, marker.original);
      await recordedMove(root, paths, marker, snapshot, marker.original);
      // Only a forced end can find the index changed; it gets what was staged back.
      if (staged !== marker.staged) {
        await runGit(root, ["read-tree", marker.staged]);
        await runGit(root, ["update-index", "-q", "--refresh"]).catch(() => {});
      }
      await runGit(root, ["update-ref", PREVIOUS_REF, marker.savedCommit]);
      await runGit(root, ["update-ref", "-d", SAVED_REF]);
      await removeMarker(paths);
      return { workspace: marker.workspace, restored, leftRef };
    } finally {
      await dropIndex(snapshot.indexFile);
    }
  });
}

/** The marker, when Spotlight is on. */
export async function spotlightState(root: string): Promise<SpotlightMarker | undefined> {
  return readMarker(await spotlightPaths(root));
}

async function begin(
  root: string,
  paths: SpotlightPaths,
  source: SpotlightSource,
): Promise<SpotlightChange> {
  const head = await currentHead(root);
  if (head === undefined) {
    throw new UsageError("the main checkout has no commit yet; Spotlight needs one");
  }
  const staged = await stagedTree(root);
  if (staged === undefined) {
    throw new UnsafeOperationError(
      "the main checkout has unmerged paths (a merge or rebase stopped on a conflict)",
      {
        // Named with the repository when conductor was started elsewhere (-C): a bare git there
        // finds no repository, or another one.
        hint: `Finish or abort it first: \`${gitCommand(root, ["merge", "--abort"])}\`, or \`${gitCommand(root, ["rebase", "--abort"])}\` for a rebase.`,
      },
    );
  }
  const snapshot = await snapshotCheckout(root);
  try {
    const original = snapshot.tree;
    const target = await targetTree(root, original, source);
    await refuseIgnoredInTheWay(root, original, target.tree);
    // Saved before anything changes: the checkout's files (first parent HEAD) and its index.
    const stagedCommit = await commitTree(root, staged, [head], "conductor spotlight: the index");
    const savedCommit = await commitTree(
      root,
      original,
      [head, stagedCommit],
      `conductor spotlight: the main checkout before showing ${source.workspace}`,
    );
    await runGit(root, ["update-ref", SAVED_REF, savedCommit]);
    const now = new Date().toISOString();
    const marker: SpotlightMarker = {
      version: 1,
      workspace: source.workspace,
      runId: source.runId,
      worktree: source.worktree,
      start: source.start,
      exclude: [...(source.exclude ?? [])],
      savedRef: SAVED_REF,
      savedCommit,
      head,
      original,
      staged,
      applied: original,
      pending: { to: target.tree },
      files: target.files,
      startedAt: now,
      updatedAt: now,
    };
    await writeMarker(paths, marker);
    await moveCheckout(root, snapshot.indexFile, original, target.tree);
    const { pending: _done, ...applied } = marker;
    await writeMarker(paths, { ...applied, applied: target.tree, updatedAt: now });
    return {
      workspace: source.workspace,
      files: target.files,
      changed: await changedPaths(root, original, target.tree),
      workspaceTree: target.workspaceTree,
    };
  } finally {
    await dropIndex(snapshot.indexFile);
  }
}

/** Moves the checkout from what it shows to `source`'s changes (another workspace, or newer). */
async function moveTo(
  root: string,
  paths: SpotlightPaths,
  marker: SpotlightMarker,
  source: SpotlightSource,
): Promise<SpotlightChange> {
  const snapshot = await snapshotCheckout(root, marker.applied);
  try {
    const { edited, torn } = await editedPaths(root, marker, snapshot.tree);
    if (torn.length > 0) {
      await keepLeft(
        root,
        snapshot.tree,
        await currentHead(root),
        `conductor spotlight: the main checkout with ${torn.length} files cut off by a kill`,
      );
    }
    if (edited.length > 0) {
      throw new UnsafeOperationError(
        `the main checkout was edited while Spotlight showed ${marker.workspace}: ${listed(edited)}`,
        {
          hint: `Undo those edits, or end Spotlight with \`${conductorCommand(["spotlight", "--off", "--force"])}\` (the edits are kept on ${LEFT_REF}).`,
        },
      );
    }
    const target = await targetTree(root, marker.original, source);
    await refuseIgnoredInTheWay(root, snapshot.tree, target.tree);
    const base = {
      ...marker,
      workspace: source.workspace,
      runId: source.runId,
      worktree: source.worktree,
      start: source.start,
      exclude: [...(source.exclude ?? [])],
      files: target.files,
    };
    const changed = await changedPaths(root, snapshot.tree, target.tree);
    if (changed.length > 0) {
      await recordedMove(root, paths, base, snapshot, target.tree);
    }
    const { pending: _done, ...settled } = base;
    if (changed.length > 0 || marker.pending !== undefined || marker.workspace !== source.workspace)
      await writeMarker(paths, {
        ...settled,
        applied: target.tree,
        updatedAt: new Date().toISOString(),
      });
    return {
      workspace: source.workspace,
      files: target.files,
      changed,
      workspaceTree: target.workspaceTree,
    };
  } finally {
    await dropIndex(snapshot.indexFile);
  }
}

/**
 * The main checkout's files with the workspace's changes on top: the workspace's files (tracked
 * and untracked, not ignored, uncommitted edits included) merged with the checkout's own, both
 * as children of the workspace's start so that the merge base is exactly that start.
 */
async function targetTree(
  root: string,
  original: string,
  source: SpotlightSource,
): Promise<{ tree: string; files: number; workspaceTree: string }> {
  const start = (await runGit(root, ["rev-parse", "--verify", `${source.start}^{commit}`])).trim();
  if (!existsSync(source.worktree)) {
    throw new StateError(`the worktree of ${source.workspace} is gone (${source.worktree})`, {
      hint: `\`${conductorCommand(["spotlight", "--off"])}\` still restores the main checkout.`,
    });
  }
  // Through the worktree's own git folder: an agent at work there may change its .git any time.
  const gitDir = await worktreeGitDir(root, source.worktree);
  const workspace = await snapshotCheckout(source.worktree, undefined, source.exclude, gitDir);
  await dropIndex(workspace.indexFile);
  const files = (
    await changedPaths(
      root,
      (await runGit(root, ["rev-parse", `${start}^{tree}`])).trim(),
      workspace.tree,
    )
  ).length;
  const ours = await commitTree(root, original, [start], "conductor spotlight: main checkout");
  const theirs = await commitTree(
    root,
    workspace.tree,
    [start],
    `conductor spotlight: ${source.workspace}`,
  );
  const merged = await mergeTree(root, ours, theirs);
  if (!merged.clean) {
    throw new UnsafeOperationError(
      `${source.workspace}'s changes conflict with the main checkout's own changes in ${listed(merged.conflicts)}; nothing was changed`,
      {
        hint: "Commit, stash or undo your changes to those files in the main checkout, then try again.",
      },
    );
  }
  return { tree: merged.tree, files, workspaceTree: workspace.tree };
}

/**
 * Refuses when a path the change would write holds an ignored file (or folder) in the main
 * checkout: such files (node_modules, .env.local) are never Spotlight's to touch. Paths absent
 * from the checkout's snapshot but present on disk are exactly those.
 */
async function refuseIgnoredInTheWay(root: string, from: string, to: string): Promise<void> {
  const inTheWay = await pathsInTheWay(root, from, to);
  if (inTheWay.length > 0) {
    throw new UnsafeOperationError(
      `the workspace's changes would overwrite ignored files of the main checkout: ${listed(inTheWay)}; nothing was changed`,
      { hint: "Move those files away if they may go, then try again." },
    );
  }
}

/**
 * Paths of the checkout that are neither what Spotlight last put there nor, while a change was
 * under way (a conductor killed in the middle), what that change was putting there (`edited`);
 * and paths that change was writing that hold neither version (`torn`): git writes a file in
 * place, so a kill can leave one cut short. Those are Spotlight's to finish or undo.
 */
async function editedPaths(
  root: string,
  marker: SpotlightMarker,
  current: string,
): Promise<{ edited: string[]; torn: string[] }> {
  const fromApplied = await changedPaths(root, marker.applied, current);
  if (marker.pending === undefined || fromApplied.length === 0) {
    return { edited: fromApplied, torn: [] };
  }
  const fromPending = new Set(await changedPaths(root, marker.pending.to, current));
  const neither = fromApplied.filter((file) => fromPending.has(file));
  if (neither.length === 0) return { edited: [], torn: [] };
  const writing = new Set(await changedPaths(root, marker.applied, marker.pending.to));
  return {
    edited: neither.filter((file) => !writing.has(file)),
    torn: neither.filter((file) => writing.has(file)),
  };
}

/** Keeps a snapshot of the main checkout on {@link LEFT_REF} before Spotlight overwrites it. */
async function keepLeft(
  root: string,
  tree: string,
  head: string | undefined,
  why: string,
): Promise<string> {
  const left = await commitTree(root, tree, head === undefined ? [] : [head], why);
  await runGit(root, ["update-ref", LEFT_REF, left]);
  return LEFT_REF;
}

/**
 * Moves the main checkout's files from the snapshot's tree to `to`, with the move recorded in the
 * marker first, so the next command can finish or undo a move a kill cut off.
 */
async function recordedMove(
  root: string,
  paths: SpotlightPaths,
  marker: SpotlightMarker,
  snapshot: CheckoutSnapshot,
  to: string,
): Promise<void> {
  await writeMarker(paths, {
    ...marker,
    applied: snapshot.tree,
    pending: { to },
    updatedAt: new Date().toISOString(),
  });
  await moveCheckout(root, snapshot.indexFile, snapshot.tree, to);
}

async function requireMarker(paths: SpotlightPaths): Promise<SpotlightMarker> {
  const marker = await readMarker(paths);
  if (marker === undefined) {
    throw new StateError("Spotlight is off", {
      hint: `\`${conductorCommand(["status"])}\` lists the workspaces Spotlight can show.`,
    });
  }
  return marker;
}

function sourceOf(marker: SpotlightMarker): SpotlightSource {
  return {
    workspace: marker.workspace,
    runId: marker.runId,
    worktree: marker.worktree,
    start: marker.start,
    exclude: marker.exclude ?? [],
  };
}

async function currentHead(root: string): Promise<string | undefined> {
  try {
    return (await runGit(root, ["rev-parse", "--verify", "-q", "HEAD^{commit}"])).trim();
  } catch {
    return undefined;
  }
}

/** A few paths for a message: the first five, and how many more. */
function listed(paths: readonly string[]): string {
  const shown = paths.slice(0, 5).join(", ");
  return paths.length > 5 ? `${shown} and ${paths.length - 5} more` : shown;
}
