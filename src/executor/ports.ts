import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import getPort from "get-port";
import lockfile from "proper-lockfile";

/**
 * The machine-wide registry of port blocks, shared by every conductor process of this user:
 * `~/.conductor/ports.json`, changed only under a lock. A block stays reserved while its
 * workspace's worktree exists (a reviewer may `conductor serve` it days later); blocks of
 * worktrees that are gone are reclaimed.
 */

/** First port conductor hands out; above common dev-server defaults, below the ephemeral range. */
export const FIRST_PORT = 20000;
/** Highest port a block may end at. */
export const LAST_PORT = 32767;

/** One reserved block of consecutive ports. */
export interface PortReservation {
  start: number;
  count: number;
  /** The worktree the block belongs to; the reservation lives as long as it does. */
  worktree: string;
  workspace: string;
  runId: string;
}

interface Registry {
  reservations: PortReservation[];
}

/** Where the registry lives under a home directory. */
export function registryFile(homeDir: string): string {
  return path.join(homeDir, ".conductor", "ports.json");
}

/**
 * Reserves `count` consecutive ports for a worktree: its existing block when it has one, else the
 * preferred block (from the plan's block index) when free, else the first free block. "Free" means
 * not reserved by any live workspace and not bound by any process right now.
 */
export async function reservePorts(
  homeDir: string,
  request: {
    count: number;
    preferredIndex: number;
    worktree: string;
    workspace: string;
    runId: string;
  },
): Promise<PortReservation> {
  return withRegistry(homeDir, async (registry) => {
    const own = registry.reservations.find(
      (reservation) => reservation.worktree === request.worktree,
    );
    if (own && own.count === request.count) return own;
    registry.reservations = registry.reservations.filter(
      (reservation) =>
        reservation.worktree !== request.worktree && existsSync(reservation.worktree),
    );
    const slots = Math.floor((LAST_PORT - FIRST_PORT + 1) / request.count);
    for (let offset = 0; offset < slots; offset++) {
      const start = FIRST_PORT + ((request.preferredIndex + offset) % slots) * request.count;
      if (overlaps(registry.reservations, start, request.count)) continue;
      if (!(await allBindable(start, request.count))) continue;
      const reservation = {
        start,
        count: request.count,
        worktree: request.worktree,
        workspace: request.workspace,
        runId: request.runId,
      };
      registry.reservations.push(reservation);
      return reservation;
    }
    throw new Error(
      `no block of ${request.count} free ports left between ${FIRST_PORT} and ${LAST_PORT}`,
    );
  });
}

/** Frees the block of a worktree (on archive). */
export async function releasePorts(homeDir: string, worktree: string): Promise<void> {
  await withRegistry(homeDir, async (registry) => {
    registry.reservations = registry.reservations.filter(
      (reservation) => reservation.worktree !== worktree,
    );
  });
}

/** The block reserved for a worktree, if any (read without locking: a snapshot is enough). */
export async function reservedPorts(
  homeDir: string,
  worktree: string,
): Promise<PortReservation | undefined> {
  const registry = await readRegistry(registryFile(homeDir));
  return registry.reservations.find((reservation) => reservation.worktree === worktree);
}

function overlaps(reservations: readonly PortReservation[], start: number, count: number): boolean {
  return reservations.some(
    (other) => start < other.start + other.count && other.start < start + count,
  );
}

async function allBindable(start: number, count: number): Promise<boolean> {
  for (let port = start; port < start + count; port++) {
    // get-port answers with another port when the one asked for is taken.
    if ((await getPort({ port, host: "127.0.0.1" })) !== port) return false;
  }
  return true;
}

async function withRegistry<T>(
  homeDir: string,
  change: (registry: Registry) => Promise<T>,
): Promise<T> {
  const file = registryFile(homeDir);
  await mkdir(path.dirname(file), { recursive: true });
  // proper-lockfile locks with an atomic mkdir and treats locks of crashed processes as stale.
  const release = await lockfile.lock(file, {
    realpath: false,
    stale: 10_000,
    retries: { retries: 200, minTimeout: 10, maxTimeout: 100 },
  });
  try {
    const registry = await readRegistry(file);
    const result = await change(registry);
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(registry, null, 2)}\n`);
    await rename(temporary, file);
    return result;
  } finally {
    await release();
  }
}

async function readRegistry(file: string): Promise<Registry> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as Partial<Registry>;
    return { reservations: Array.isArray(parsed.reservations) ? parsed.reservations : [] };
  } catch {
    // Missing or damaged: start empty; live workspaces re-register when they next reserve.
    return { reservations: [] };
  }
}
