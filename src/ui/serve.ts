import path from "node:path";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { RunPaths } from "../executor/run-store.js";
import { fileSize } from "../review/follow-file.js";
import { type ActionResult, type CliLauncher, readFrom, runCli } from "./actions.js";

/**
 * Dev servers the page started with `conductor serve`, one per workspace, each a child CLI that
 * runs until the page stops it (or the page's server stops). The port shown is the one `serve`
 * announces: the workspace's own block from the port registry.
 */

/** How long `serve` may take to announce its port before the page reports what it printed. */
const ANNOUNCE_TIMEOUT_MS = 15_000;

interface Served {
  port: number | undefined;
  controller: AbortController;
  done: Promise<ActionResult>;
}

/** The page's dev servers. */
export class ServeManager {
  private readonly served = new Map<string, Served>();

  constructor(
    private readonly launcher: CliLauncher,
    /** Told when a workspace's served port changes (to update its row). */
    private readonly onChange: (runId: string, name: string) => void,
  ) {}

  /** The port a workspace is served on by this page, if it is. */
  portOf(runId: string, name: string): number | undefined {
    return this.served.get(key(runId, name))?.port;
  }

  /**
   * Starts `conductor serve <name>`; resolves once it announced its port (ok) or exited (its
   * output says why, e.g. no run script).
   */
  async start(found: FoundWorkspace): Promise<ActionResult & { port?: number }> {
    const id = key(found.run.runId, found.workspace.name);
    const running = this.served.get(id);
    if (running !== undefined) {
      return {
        ok: true,
        exitCode: undefined,
        command: "",
        output: `already serving ${found.workspace.name} on port ${running.port}\n`,
        ...(running.port === undefined ? {} : { port: running.port }),
      };
    }
    const logName = "ui-serve.log";
    const logFile = path.join(
      new RunPaths(found.run.plan.repo.root, found.run.runId).workspaceDir(found.workspace.name),
      logName,
    );
    const from = await fileSize(logFile);
    const controller = new AbortController();
    const entry: Served = {
      port: undefined,
      controller,
      done: runCli(
        this.launcher,
        found,
        ["serve", "--run", found.run.runId, "--", found.workspace.name],
        {
          signal: controller.signal,
          logName,
        },
      ),
    };
    this.served.set(id, entry);
    let exited = false;
    void entry.done.finally(() => {
      exited = true;
      if (this.served.get(id) === entry) this.served.delete(id);
      this.onChange(found.run.runId, found.workspace.name);
    });
    const announced = new RegExp(`serving ${escapeRegExp(found.workspace.name)} on port (\\d+)`);
    const deadline = Date.now() + ANNOUNCE_TIMEOUT_MS;
    while (!exited && Date.now() < deadline) {
      const match = announced.exec(await readFrom(logFile, from));
      if (match) {
        entry.port = Number(match[1]);
        this.onChange(found.run.runId, found.workspace.name);
        return {
          ok: true,
          exitCode: undefined,
          command: "",
          output: match.input,
          port: entry.port,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!exited) {
      controller.abort();
    }
    return entry.done;
  }

  /** Stops a workspace's dev server (SIGTERM to its `serve`, which stops the script's group). */
  async stop(runId: string, name: string): Promise<ActionResult> {
    const entry = this.served.get(key(runId, name));
    if (entry === undefined) {
      return {
        ok: false,
        exitCode: undefined,
        command: "",
        output: `${name} is not served by this page\n`,
      };
    }
    entry.controller.abort();
    const result = await entry.done;
    return { ...result, ok: true };
  }

  /** Stops every dev server (the page's server is stopping). */
  async stopAll(): Promise<void> {
    const all = [...this.served.values()];
    for (const entry of all) entry.controller.abort();
    await Promise.allSettled(all.map((entry) => entry.done));
  }
}

function key(runId: string, name: string): string {
  return `${runId}\0${name}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
