import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { registryFile } from "../executor/ports.js";
import { type CheckResult, result } from "../preflight/check.js";

/**
 * The machine-wide port registry: readable, valid, and how many of its blocks belong to live
 * worktrees. A damaged file would be read as empty, and blocks of live workspaces handed out
 * again.
 */
export async function portRegistryCheck(homeDir: string): Promise<CheckResult> {
  const check = "port registry";
  const file = registryFile(homeDir);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return result(check, "ok", `${file}: no reservations yet`);
    return result(
      check,
      "fail",
      `${file} cannot be read: ${(error as Error).message}`,
      `make it readable: chmod u+rw ${file}`,
    );
  }
  let reservations: unknown;
  try {
    reservations = (JSON.parse(text) as { reservations?: unknown }).reservations;
  } catch {
    reservations = undefined;
  }
  if (!Array.isArray(reservations) || !reservations.every(isReservation)) {
    return result(
      check,
      "fail",
      `${file} is damaged (not the JSON conductor writes): live workspaces' ports could be handed out twice`,
      `rm ${file} (live workspaces reserve their ports again when they next run)`,
    );
  }
  const live = reservations.filter((reservation) => existsSync(reservation.worktree));
  const gone = reservations.length - live.length;
  const stale = gone > 0 ? `; ${gone} of removed worktrees, reclaimed at the next run` : "";
  return result(check, "ok", `${file}: ${live.length} live reservation(s)${stale}`);
}

function isReservation(value: unknown): value is { worktree: string; start: number } {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.worktree === "string" && typeof record.start === "number";
}
