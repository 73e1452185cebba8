import { copyFile, readFile } from "node:fs/promises";
import path from "node:path";
import { StateError } from "../errors.js";
import { describeKind, readRegularFile, targetKindOf } from "../fs/regular-file.js";
import { liveEnvironments } from "../process/environ.js";

/**
 * Reading `~/.conductor/ports.json` without trusting it: a damaged registry is rebuilt from what
 * is left of it and from the live processes of every run, never silently emptied (that would hand
 * out blocks still in use); something that is not a file there is refused with its remedy.
 */

/** One reserved block of consecutive ports. */
export interface PortReservation {
  start: number;
  count: number;
  /** The worktree the block belongs to; the reservation lives as long as it does. */
  worktree: string;
  workspace: string;
  runId: string;
  /** The conductor that reserved the block before its worktree existed. */
  pid?: number;
}

/** The registry's content. */
export interface Registry {
  reservations: PortReservation[];
}

/** What was found at the registry's path. */
export type RegistryHealth =
  | { state: "missing"; file: string }
  | { state: "ok"; file: string; reservations: PortReservation[] }
  | {
      state: "damaged";
      file: string;
      /** What is wrong, for people. */
      problem: string;
      /** The entries that could still be read. */
      salvaged: PortReservation[];
    }
  | { state: "not-a-file"; file: string; kind: string };

/** Block size assumed for a live workspace whose run state does not say (the config default). */
const DEFAULT_BLOCK = 10;

/** Reads and checks the registry file (for conductor itself and for `conductor doctor`). */
export async function registryHealth(file: string): Promise<RegistryHealth> {
  const kind = await targetKindOf(file);
  if (kind === "missing") return { state: "missing", file };
  if (kind !== "file") return { state: "not-a-file", file, kind: describeKind(kind) };
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readRegularFile(file)) ?? "");
  } catch (error) {
    return {
      state: "damaged",
      file,
      problem: `not JSON (${(error as Error).message})`,
      salvaged: [],
    };
  }
  const list = (parsed as { reservations?: unknown } | null)?.reservations;
  if (!Array.isArray(list)) {
    return {
      state: "damaged",
      file,
      problem: "no list of reservations in it",
      salvaged: [],
    };
  }
  const salvaged = list.filter(isReservation);
  if (salvaged.length < list.length) {
    return {
      state: "damaged",
      file,
      problem: `${list.length - salvaged.length} of its ${list.length} entries are not reservations`,
      salvaged,
    };
  }
  return { state: "ok", file, reservations: salvaged };
}

/**
 * The registry to work on: the file's reservations; for a damaged file, the salvaged entries plus
 * the blocks live processes of any run are using (a copy of the damaged file is kept beside it as
 * `ports.json.damaged`). Refuses when something else than a file is in the registry's place.
 */
export async function readRegistryForChange(file: string): Promise<Registry> {
  const health = await registryHealth(file);
  switch (health.state) {
    case "missing":
      return { reservations: [] };
    case "ok":
      return { reservations: health.reservations };
    case "damaged":
      await copyFile(file, `${file}.damaged`).catch(() => undefined);
      return { reservations: merge(health.salvaged, await reservationsInUse()) };
    case "not-a-file":
      throw notAFile(file, health.kind);
  }
}

/** The reservations to read (a snapshot): a damaged file counts for what can be salvaged. */
export async function readRegistrySnapshot(file: string): Promise<Registry> {
  const health = await registryHealth(file);
  if (health.state === "ok") return { reservations: health.reservations };
  if (health.state === "damaged") return { reservations: health.salvaged };
  if (health.state === "not-a-file") throw notAFile(file, health.kind);
  return { reservations: [] };
}

function notAFile(file: string, kind: string): StateError {
  return new StateError(
    `${file} is ${kind}, not conductor's port registry; conductor cannot tell which ports are in use`,
    { hint: `Move it out of the way: mv '${file}' '${file}.moved' (live runs reserve again).` },
  );
}

/**
 * Blocks in use right now by live processes of any run: every script, agent and dev server
 * carries its workspace's CONDUCTOR_PORT, CONDUCTOR_WORKSPACE_PATH and CONDUCTOR_RUN_ID; the
 * block size comes from its run's plan.
 */
export async function reservationsInUse(): Promise<PortReservation[]> {
  const found = new Map<string, PortReservation>();
  const sizes = new Map<string, number>();
  for (const env of liveEnvironments("CONDUCTOR_PORT=")) {
    const start = Number(env.get("CONDUCTOR_PORT"));
    const worktree = env.get("CONDUCTOR_WORKSPACE_PATH");
    const runId = env.get("CONDUCTOR_RUN_ID");
    const workspace = env.get("CONDUCTOR_WORKSPACE_NAME") ?? "";
    const root = env.get("CONDUCTOR_ROOT_PATH");
    if (!Number.isInteger(start) || worktree === undefined || runId === undefined) continue;
    if (found.has(worktree)) continue;
    const key = `${root}\0${runId}`;
    if (!sizes.has(key)) sizes.set(key, await blockSize(root, runId));
    found.set(worktree, {
      start,
      count: sizes.get(key) ?? DEFAULT_BLOCK,
      worktree,
      workspace,
      runId,
    });
  }
  return [...found.values()];
}

async function blockSize(root: string | undefined, runId: string): Promise<number> {
  if (root === undefined || !/^[\w.-]+$/.test(runId)) return DEFAULT_BLOCK;
  const stateFile = path.join(root, ".conductor", "runs", runId, "run.json");
  try {
    const state = JSON.parse(await readFile(stateFile, "utf8")) as {
      plan?: { portsPerWorkspace?: unknown };
    };
    const count = state.plan?.portsPerWorkspace;
    return typeof count === "number" && Number.isInteger(count) && count > 0
      ? count
      : DEFAULT_BLOCK;
  } catch {
    return DEFAULT_BLOCK;
  }
}

function merge(kept: PortReservation[], live: PortReservation[]): PortReservation[] {
  const known = new Set(kept.map((reservation) => reservation.worktree));
  return [...kept, ...live.filter((reservation) => !known.has(reservation.worktree))];
}

function isReservation(value: unknown): value is PortReservation {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    Number.isInteger(record.start) &&
    Number.isInteger(record.count) &&
    (record.count as number) > 0 &&
    typeof record.worktree === "string" &&
    typeof record.workspace === "string" &&
    typeof record.runId === "string" &&
    (record.pid === undefined || Number.isInteger(record.pid))
  );
}
