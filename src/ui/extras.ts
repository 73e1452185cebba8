import { stat } from "node:fs/promises";
import type { RunState } from "../executor/types.js";
import { readReviewResult, reviewFile } from "../reviewing/result.js";
import type { ReviewMark } from "./views.js";

/**
 * Facts about workspaces that other commands leave as files in the run folder rather than as
 * events: `conductor review`'s `review.json`. Looked at every few seconds (one stat per
 * workspace); a change updates the workspace's row.
 */

/** How often the files are looked at. */
export const EXTRAS_SCAN_MS = 2000;

/** The review verdicts of one run's workspaces, as last read. */
export class ReviewMarks {
  private readonly marks = new Map<string, { mtimeMs: number; mark: ReviewMark | undefined }>();

  /** The verdict last read for a workspace. */
  get(name: string): ReviewMark | undefined {
    return this.marks.get(name)?.mark;
  }

  /** Re-reads the files that changed; returns the workspaces whose verdict changed. */
  async scan(state: RunState): Promise<string[]> {
    const changed: string[] = [];
    const root = state.plan.repo.root;
    await Promise.all(
      state.plan.workspaces.map(async ({ name }) => {
        const file = reviewFile(root, state.runId, name);
        const mtimeMs = (await stat(file).catch(() => undefined))?.mtimeMs ?? 0;
        const known = this.marks.get(name);
        if (known !== undefined && known.mtimeMs === mtimeMs) return;
        const result = mtimeMs === 0 ? undefined : await readReviewResult(root, state.runId, name);
        const mark: ReviewMark | undefined =
          result === undefined
            ? undefined
            : {
                status: result.status,
                correct:
                  result.verdict === "correct"
                    ? true
                    : result.verdict === "incorrect"
                      ? false
                      : undefined,
                byPriority: result.byPriority,
              };
        this.marks.set(name, { mtimeMs, mark });
        if (known !== undefined || mark !== undefined) changed.push(name);
      }),
    );
    return changed;
  }
}
