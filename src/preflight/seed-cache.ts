/** The check of the seed cache's folder, for plans with `workspaces.seed`. */
import type { AgentEnv } from "../agents/provider.js";
import { cacheRoot } from "../executor/seed/cache.js";
import type { Plan } from "../planner/types.js";
import type { CheckResult } from "./check.js";
import { namedFailure, writableFolderCheck } from "./workspaces.js";

/**
 * Whether the seed cache (`$CONDUCTOR_CACHE_DIR`, else `~/.conductor/cache`) can be written;
 * undefined when the plan seeds nothing. Without it every workspace would be made and then fail
 * at its seed step, one by one, with the file system's error.
 */
export async function seedCacheCheck(
  plan: Pick<Plan, "seed">,
  homeDir: string,
  env: AgentEnv,
): Promise<CheckResult | undefined> {
  if (plan.seed === undefined) return undefined;
  return namedFailure(
    await writableFolderCheck("seed cache", cacheRoot(homeDir, env), "set CONDUCTOR_CACHE_DIR"),
  );
}
