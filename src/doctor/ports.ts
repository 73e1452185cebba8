import { existsSync } from "node:fs";
import { portRegistryHealth } from "../executor/ports.js";
import { type CheckResult, result } from "../preflight/check.js";
import { portRegistryProblem } from "../preflight/port-registry.js";

/**
 * The machine-wide port registry: readable, not damaged, and how many of its blocks belong to
 * live worktrees. A damaged file is rebuilt at the next reservation (from live runs), so it is a
 * warning; something other than a file in its place stops every run.
 */
export async function portRegistryCheck(homeDir: string): Promise<CheckResult> {
  const check = "port registry";
  const health = await portRegistryHealth(homeDir);
  const problem = await portRegistryProblem(homeDir, health);
  if (problem !== undefined) return problem;
  const { file } = health;
  switch (health.state) {
    case "missing":
    case "not-a-file": // the problem above
      return result(check, "ok", `${file}: no reservations yet`);
    case "damaged":
      return result(
        check,
        "warn",
        `${file} is damaged (${health.problem}); ${health.salvaged.length} reservation(s) readable. The next run rebuilds it from the ports live runs use and keeps a copy as ports.json.damaged`,
        "",
      );
    case "ok": {
      const live = health.reservations.filter((reservation) => existsSync(reservation.worktree));
      const gone = health.reservations.length - live.length;
      const stale = gone > 0 ? `; ${gone} of removed worktrees, reclaimed at the next run` : "";
      return result(check, "ok", `${file}: ${live.length} live reservation(s)${stale}`);
    }
  }
}
