import { appendFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { UsageError, WorkspaceConflictError } from "../errors.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { SERVE_MARKER_VARIABLE } from "../executor/leftovers.js";
import { listenersOn, type PortListener } from "../executor/ports-in-use.js";
import { RunPaths } from "../executor/run-store.js";
import { commandLineOf } from "../process/command-line.js";
import { liveEnvironments } from "../process/environ.js";
import { markedProcessGroups, terminateGroup } from "../process/groups.js";
import type { ProcessOutcome } from "../process/outcome.js";
import { runProcess } from "../process/run.js";
import { fileSize, followFile } from "./follow-file.js";
import {
  NO_TIMEOUT_MS,
  reserveWorkspacePorts,
  scriptEnv,
  scriptRedactor,
} from "./workspace-process.js";
import { requireWorktree } from "./worktree-presence.js";

/** What {@link serveWorkspace} needs. */
export interface ServeOptions {
  found: FoundWorkspace;
  homeDir: string;
  /** Aborting stops the run script and its whole process group. */
  signal: AbortSignal;
  /** Receives the script's output (stdout and stderr, redacted) as it comes. */
  write(text: string): void;
  /** Told which other workspaces' servers were stopped first (`scripts.run_mode: nonconcurrent`). */
  onStopped?(workspaces: string[]): void;
  /** Told of the ports of the block (other than the first) that some process listens on already. */
  onPortsInUse?(listeners: string[]): void;
  /** Told the port block before the script starts. */
  onStart(info: { port: number; count: number; script: string; logFile: string }): void;
}

/**
 * Runs a workspace's `run` script (its dev server) in its worktree until it exits or the signal
 * aborts, on the workspace's own port block: the block reserved for the worktree during the run,
 * so that several workspaces can be served side by side. The output goes to the workspace's
 * run.log and, from there, to `write`.
 */
export async function serveWorkspace(options: ServeOptions): Promise<ProcessOutcome> {
  const { found } = options;
  const { workspace, run } = found;
  const script = workspace.scripts.run;
  if (script === undefined) {
    throw new UsageError(`workspace ${workspace.name} has no run script to serve`, {
      hint: 'Set scripts.run in conductor.yaml (e.g. npm run dev -- --port "$CONDUCTOR_PORT"); workspaces of later runs get it.',
    });
  }
  const worktree = await requireWorktree(found);
  // A second server of the same workspace would race the first for its ports (and fail on them,
  // or take them over): the one already running is the one to use, or to stop first.
  const serving = await servingGroups(found);
  if (serving.length > 0) {
    throw new UsageError(
      `workspace ${workspace.name} is already being served (process group ${serving.join(", ")}); nothing was started`,
      {
        hint: `Use that server, or stop it first (Ctrl-C in its terminal, or \`${serving.map((group) => `kill -TERM -${group}`).join("; ")}\`), then serve again.`,
      },
    );
  }
  if (run.plan.runMode === "nonconcurrent") {
    const stopped = await stopOtherServers(found);
    if (stopped.length > 0) options.onStopped?.(stopped);
  }
  const reservation = await reserveWorkspacePorts(found, options.homeDir);
  const listeners = await listenersOn(
    Array.from({ length: reservation.count }, (_, index) => reservation.start + index),
  );
  const onFirst = listeners.find((listener) => listener.port === reservation.start);
  if (onFirst !== undefined) {
    throw new WorkspaceConflictError(
      `port ${onFirst.port}, the $CONDUCTOR_PORT of workspace ${workspace.name}, is in use by ${holdersText(onFirst)}; nothing was started`,
      {
        hint:
          onFirst.pids.length > 0
            ? `Stop that process (\`kill ${onFirst.pids.join(" ")}\`), then serve again: the workspace keeps its ports ${reservation.start}-${reservation.start + reservation.count - 1}, which its setup may have written into its files.`
            : `It is not one of yours: \`sudo ss -ltnp 'sport = :${onFirst.port}'\` names it. Stop it, then serve again.`,
      },
    );
  }
  if (listeners.length > 0) options.onPortsInUse?.(listeners.map(describeListener));
  const logFile = new RunPaths(run.plan.repo.root, run.runId).logFile(workspace.name, "run");
  await mkdir(path.dirname(logFile), { recursive: true });
  await appendFile(
    logFile,
    `\n$ ${script}  # port ${reservation.start}, ${new Date().toISOString()}\n`,
  );
  const from = await fileSize(logFile);
  options.onStart({ port: reservation.start, count: reservation.count, script, logFile });

  let ended = false;
  const shown = followFile(logFile, {
    from,
    write: options.write,
    done: () => ended,
    // The follow ends after the script (and so after its last words on shutdown), not on Ctrl-C.
    signal: new AbortController().signal,
  });
  const outcome = await runProcess({
    file: script,
    shell: true,
    cwd: worktree,
    // Marked so that resuming or continuing the run does not take it for a leftover of a crash.
    env: { ...scriptEnv(found, reservation.start), [SERVE_MARKER_VARIABLE]: "1" },
    signal: options.signal,
    timeoutMs: NO_TIMEOUT_MS,
    logFile,
    redactor: await scriptRedactor(found),
  }).finally(() => {
    ended = true;
  });
  await shown;
  return outcome;
}

/** Who listens on a port: `pid 123 (node server.js)`, or a process of another user (not visible here). */
function holdersText(listener: PortListener): string {
  if (listener.pids.length === 0) return "a process of another user (not visible here)";
  return listener.pids
    .map((pid) => {
      const command = commandLineOf(pid);
      return command === undefined ? `pid ${pid}` : `pid ${pid} (${command})`;
    })
    .join(", ");
}

function describeListener(listener: PortListener): string {
  return `port ${listener.port} (${holdersText(listener)})`;
}

/**
 * Whether `conductor serve` (or the review page) runs this workspace's run script now, so that
 * its run.log may still grow.
 */
export async function isBeingServed(found: FoundWorkspace): Promise<boolean> {
  return (await servingGroups(found)).length > 0;
}

/**
 * The process groups of `conductor serve` of this workspace: those with its serve marker, run
 * and workspace in their environment.
 */
function servingGroups(found: FoundWorkspace): Promise<number[]> {
  return markedProcessGroups(
    `${SERVE_MARKER_VARIABLE}=1`,
    `CONDUCTOR_ROOT_PATH=${found.run.plan.repo.root}`,
    `CONDUCTOR_RUN_ID=${found.run.runId}`,
    `CONDUCTOR_WORKSPACE_NAME=${found.workspace.name}`,
  );
}

/**
 * Ends the dev servers `conductor serve` runs for the repository's other workspaces (found by the
 * marker and CONDUCTOR_ROOT_PATH in their environment), for `scripts.run_mode: nonconcurrent`:
 * projects with one database or fixed ports cannot run two. Returns their workspaces' names.
 */
async function stopOtherServers(found: FoundWorkspace): Promise<string[]> {
  const root = found.run.plan.repo.root;
  const served = [`${SERVE_MARKER_VARIABLE}=1`, `CONDUCTOR_ROOT_PATH=${root}`];
  const own = new Set(await servingGroups(found));
  const others = (await markedProcessGroups(...served)).filter((group) => !own.has(group));
  if (others.length === 0) return [];
  const names = new Set<string>();
  for (const environment of liveEnvironments(`${SERVE_MARKER_VARIABLE}=1`)) {
    const name = environment.get("CONDUCTOR_WORKSPACE_NAME");
    const own =
      environment.get("CONDUCTOR_RUN_ID") === found.run.runId && name === found.workspace.name;
    if (environment.get("CONDUCTOR_ROOT_PATH") === root && name !== undefined && !own)
      names.add(name);
  }
  await Promise.all(others.map((group) => terminateGroup(group)));
  return [...names].sort();
}
