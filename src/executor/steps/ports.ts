import { reservePorts } from "../ports.js";
import type { StepContext, StepOutcome } from "./context.js";

/** Reserves the workspace's block of ports in the machine-wide registry. */
export async function portsStep(ctx: StepContext): Promise<StepOutcome> {
  try {
    const reservation = await reservePorts(ctx.homeDir, {
      count: ctx.plan.portsPerWorkspace,
      preferredIndex: ctx.workspace.portBlock,
      worktree: ctx.workspace.path,
      workspace: ctx.workspace.name,
      runId: ctx.paths.runId,
    });
    return { status: "succeeded", result: { step: "ports", port: reservation.start } };
  } catch (error) {
    return {
      status: "failed",
      failure: { reason: "io-error", step: "ports", message: (error as Error).message },
    };
  }
}
