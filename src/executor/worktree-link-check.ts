import path from "node:path";
import { repairWorktreeLink } from "../git/worktree-link.js";
import type { StepContext } from "./steps/context.js";

/**
 * Puts the workspace's worktree link back as git made it, before conductor runs git in the
 * worktree after an agent (see {@link repairWorktreeLink}); what stood there is kept beside the
 * agent log. Says what it put back, one sentence each.
 */
export async function repairOwnWorktreeLink(ctx: StepContext): Promise<string[]> {
  const { commonDir } = await ctx.checkoutHook.find();
  const keepUnder = path.dirname(ctx.paths.logFile(ctx.workspace.name, "agent"));
  return repairWorktreeLink(commonDir, ctx.workspace.path, keepUnder);
}
