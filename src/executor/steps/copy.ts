import { readFile } from "node:fs/promises";
import path from "node:path";
import { copyIntoWorkspace, placeContextFiles } from "../copy-files.js";
import { valuesInEnvFile } from "../redact.js";
import type { StepContext, StepOutcome } from "./context.js";

/**
 * Copies the configured gitignored files and the context files into the worktree. Files copied
 * by an earlier try count as copied; values of copied env files become secrets to redact.
 */
export async function copyStep(ctx: StepContext): Promise<StepOutcome> {
  const root = ctx.plan.repo.root;
  try {
    const report = await copyIntoWorkspace(root, ctx.workspace.path, ctx.plan.copy);
    const earlier = new Set(ctx.state().copied);
    const copied = [...report.copied, ...report.skipped.filter((file) => earlier.has(file))];
    const context = await placeContextFiles(root, ctx.workspace.path, ctx.plan.context);
    for (const file of copied.filter((relative) => /(^|\/)\.env/.test(relative))) {
      ctx.addSecrets(
        valuesInEnvFile(await readFile(path.join(root, file), "utf8").catch(() => "")),
      );
    }
    return { status: "succeeded", result: { step: "copy", copied: [...copied, ...context] } };
  } catch (error) {
    return {
      status: "failed",
      failure: { reason: "io-error", step: "copy", message: (error as Error).message },
    };
  }
}
