import type { RunState, WorkspaceStatus } from "../executor/types.js";
import { renderTable } from "../report/table.js";

/** One run as `conductor runs` lists it. */
export interface RunListing {
  runId: string;
  /** The config file it was made from, relative to the repository root. */
  configFile: string;
  createdAt: string;
  finishedAt: string | undefined;
  /** `running` only while its conductor is alive; a dead one's run reads as interrupted. */
  status: RunState["status"];
  /** The pid of its conductor while it is live. */
  livePid: number | undefined;
  /** Workspaces by status; archived ones are counted apart as well. */
  counts: Partial<Record<WorkspaceStatus, number>>;
  workspaces: number;
  archived: number;
  /** Whether commands given this config file and no --run read this run. */
  latestOfConfig: boolean;
}

/** What `conductor runs` shows of a run. */
export function runListing(state: RunState, live: boolean, latestOfConfig: boolean): RunListing {
  const counts: Partial<Record<WorkspaceStatus, number>> = {};
  let archived = 0;
  for (const workspace of Object.values(state.workspaces)) {
    counts[workspace.status] = (counts[workspace.status] ?? 0) + 1;
    if (workspace.archived !== undefined) archived++;
  }
  return {
    runId: state.runId,
    configFile: state.plan.configFile ?? "conductor.yaml",
    createdAt: state.createdAt,
    finishedAt: state.finishedAt,
    status: state.status,
    livePid: state.status === "running" && live ? state.pid : undefined,
    counts,
    workspaces: Object.keys(state.workspaces).length,
    archived,
    latestOfConfig,
  };
}

const ORDER: readonly WorkspaceStatus[] = [
  "succeeded",
  "failed",
  "skipped",
  "interrupted",
  "running",
  "pending",
];

/** The runs as a table, oldest first; `*` marks the run each config file's commands default to. */
export function renderRuns(runs: readonly RunListing[]): string {
  if (runs.length === 0) return "there are no runs in this repository yet\n";
  const rows = [["", "RUN", "CONFIG", "STARTED (UTC)", "STATUS", "WORKSPACES"]];
  for (const run of runs) {
    const counts = ORDER.filter((status) => (run.counts[status] ?? 0) > 0).map(
      (status) => `${run.counts[status]} ${status}`,
    );
    if (run.archived > 0) counts.push(`${run.archived} archived`);
    rows.push([
      run.latestOfConfig ? "*" : "",
      run.runId,
      run.configFile,
      run.createdAt.replace("T", " ").slice(0, 19),
      run.livePid === undefined ? run.status : `running (live, pid ${run.livePid})`,
      counts.join(", ") || "none",
    ]);
  }
  return `${renderTable(rows)}\n\n* the run that commands read by default for its config file (others: --run <id>)\n`;
}
