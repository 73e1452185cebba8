import { ConductorError } from "../../errors.js";
import type { Plan } from "../../planner/types.js";
import { type PortReservation, reservePortBlocks, reservePorts } from "../ports.js";
import type { StepContext, StepOutcome } from "./context.js";

/**
 * Reserves the blocks of every workspace of a run in one locked write of the machine-wide
 * registry. Resolves undefined when that fails: each ports step then reserves its own block and
 * reports the failure where it belongs.
 */
export function reserveRunPorts(
  plan: Plan,
  runId: string,
  homeDir: string,
): Promise<ReadonlyMap<string, PortReservation> | undefined> {
  const requests = plan.workspaces.map((workspace) => ({
    count: plan.portsPerWorkspace,
    preferredIndex: workspace.portBlock,
    worktree: workspace.path,
    workspace: workspace.name,
    runId,
  }));
  return reservePortBlocks(homeDir, requests).catch(() => undefined);
}

/** The workspace's block of ports: the one reserved with its run, else reserved now. */
export async function portsStep(ctx: StepContext): Promise<StepOutcome> {
  try {
    const reserved = (await ctx.portBlocks)?.get(ctx.workspace.path);
    const reservation =
      reserved ??
      (await reservePorts(ctx.homeDir, {
        count: ctx.plan.portsPerWorkspace,
        preferredIndex: ctx.workspace.portBlock,
        worktree: ctx.workspace.path,
        workspace: ctx.workspace.name,
        runId: ctx.paths.runId,
      }));
    return { status: "succeeded", result: { step: "ports", port: reservation.start } };
  } catch (error) {
    return {
      status: "failed",
      failure: { reason: "io-error", step: "ports", message: withRemedy(error) },
    };
  }
}

/** The error's message, and its remedy when it has one (a registry in the way says how to move it). */
function withRemedy(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return error instanceof ConductorError && error.hint ? `${message}. ${error.hint}` : message;
}
