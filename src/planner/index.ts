/** The pure planner: config + repository facts → plan. */
export { taskLevels, withDependencies } from "./dag.js";
export { canonicalJson, contentHash } from "./hash.js";
export { buildPlan, PlanError, planHash, resolveWorkspacesDir } from "./plan.js";
export { githubMatrix, parseShard } from "./shard.js";
export type * from "./types.js";
