import { existsSync } from "node:fs";
import { ConductorError } from "../errors.js";
import { guardWorktreeLink } from "../executor/worktree-link-check.js";
import { worktreeGitDir } from "../git/worktree-link.js";
import { sleep } from "../timers/sleep.js";
import type { showWorkspace } from "./spotlight.js";
import { type SpotlightChange, spotlightState, syncSpotlight } from "./spotlight.js";
import { dropIndex, snapshotCheckout } from "./trees.js";

/** What {@link watchSpotlight} reports. */
export interface WatchOptions {
  /** The workspace's tree the main checkout shows now (from {@link showWorkspace}'s answer). */
  shown: string;
  /** Stops the watch; Spotlight stays on. */
  signal: AbortSignal;
  /** How often the workspace is looked at; a change is brought over once it held for one look. */
  intervalMs?: number;
  /** Told after each sync that changed the main checkout. */
  onSync(change: SpotlightChange): void;
  /**
   * Told when a sync was refused (the main checkout was edited, a conflict, the worktree's link
   * to the repository changed while an agent works there); the watch goes on.
   */
  onRefused(error: ConductorError): void;
}

/** Default time between two looks at the workspace. */
export const WATCH_INTERVAL_MS = 1000;

/**
 * Keeps the main checkout in step with the workspace Spotlight shows until the signal aborts or
 * Spotlight is ended elsewhere. The workspace is polled with git (a tree of its files, cheap with
 * its index's stat data) rather than watched with inotify: a worktree with node_modules has more
 * folders than inotify allows watchers. A change is synced once the workspace held still for one
 * interval (debounced), so a burst of edits makes one sync. Resolves with why it stopped.
 */
export async function watchSpotlight(
  root: string,
  options: WatchOptions,
): Promise<"stopped" | "spotlight-ended" | "workspace-changed" | "workspace-gone"> {
  const interval = options.intervalMs ?? WATCH_INTERVAL_MS;
  const first = await spotlightState(root);
  if (first === undefined) return "spotlight-ended";
  let synced = options.shown;
  let previous: string | undefined;
  /** The refusal about the worktree's link last told (said once, not every pass). */
  let refusedLink: string | undefined;
  while (!options.signal.aborted) {
    const marker = await spotlightState(root);
    if (marker === undefined) return "spotlight-ended";
    if (marker.workspace !== first.workspace || marker.runId !== first.runId) {
      return "workspace-changed";
    }
    // Archived meanwhile: nothing left to bring over (`--off` needs no worktree).
    if (!existsSync(marker.worktree)) return "workspace-gone";
    // Looked at on every pass: a process the agent left may change the link while this watches.
    const link = await guardWorktreeLink({
      root,
      runId: marker.runId,
      name: marker.workspace,
      path: marker.worktree,
    }).then(
      () => undefined,
      (error: unknown) => {
        if (!(error instanceof ConductorError)) throw error;
        return error;
      },
    );
    if (link !== undefined) {
      if (link.message !== refusedLink) options.onRefused(link);
      refusedLink = link.message;
      await sleep(interval, options.signal);
      continue;
    }
    refusedLink = undefined;
    const snapshot = await snapshotCheckout(
      marker.worktree,
      undefined,
      [],
      await worktreeGitDir(root, marker.worktree),
    );
    await dropIndex(snapshot.indexFile);
    const now = snapshot.tree;
    if (now !== synced && now === previous) {
      try {
        const change = await syncSpotlight(root);
        if (change.changed.length > 0) options.onSync(change);
        synced = change.workspaceTree;
      } catch (error) {
        if (!(error instanceof ConductorError)) throw error;
        options.onRefused(error);
        synced = now; // said once; the next change of the workspace tries again
      }
    }
    previous = now;
    await sleep(interval, options.signal);
  }
  return "stopped";
}
