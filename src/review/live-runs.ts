import { StateError } from "../errors.js";
import { isRunLive, loadRun } from "../executor/load-run.js";
import { listRunIds } from "../executor/run-store.js";

/**
 * Refuses a command that moves refs (merging, deleting a workspace's branch, pushing) while a run
 * of the repository is live: the checks of its running agents see every ref change made meanwhile
 * and, unable to tell who made it, fail those agents (and put a finished workspace's branch back).
 * `nothing` ends the message: what did not happen ("nothing was merged").
 */
export async function refuseWhileRunsAreLive(root: string, nothing: string): Promise<void> {
  for (const runId of listRunIds(root)) {
    const run = await loadRun(root, runId).catch(() => undefined);
    if (run !== undefined && isRunLive(run)) {
      throw new StateError(
        `run ${runId} is still running (process ${run.pid}); ${nothing}: its agents' checks would take the moved refs for their own doing`,
        { hint: "Do it once that run has finished (or stop it with Ctrl-C)." },
      );
    }
  }
}
