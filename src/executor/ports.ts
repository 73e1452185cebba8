import { existsSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { OperationError } from "../errors.js";
import { lockWithHolder } from "../fs/lock-with-holder.js";
import { processExists } from "../process/exists.js";
import {
  type PortReservation,
  type Registry,
  type RegistryHealth,
  readRegistryForChange,
  readRegistrySnapshot,
  registryHealth,
} from "./port-registry-file.js";
import { portsInUse } from "./ports-in-use.js";

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

export type { PortReservation, RegistryHealth } from "./port-registry-file.js";

/** Where the registry lives under a home directory. */
export function registryFile(homeDir: string): string {
  return path.join(homeDir, ".conductor", "ports.json");
}

/** The state of a home's port registry (for `conductor doctor`). */
export function portRegistryHealth(homeDir: string): Promise<RegistryHealth> {
  return registryHealth(registryFile(homeDir));
}

/** What one worktree asks the registry for. */
export interface PortRequest {
  count: number;
  /** The plan's block index: the block tried first. */
  preferredIndex: number;
  worktree: string;
  workspace: string;
  runId: string;
}

/**
 * Reserves `count` consecutive ports for a worktree: its existing block when it has one, else the
 * preferred block (from the plan's block index) when free, else the first free block. "Free" means
 * not reserved by any live workspace and not bound by any process right now.
 */
export async function reservePorts(
  homeDir: string,
  request: PortRequest,
): Promise<PortReservation> {
  const blocks = await reservePortBlocks(homeDir, [request]);
  return blocks.get(request.worktree) as PortReservation;
}

/**
 * Reserves the blocks of many worktrees (a run's workspaces, when it starts) under one lock and
 * with one write of the registry, checking the candidate ports of all of them at once. Blocks of
 * worktrees not made yet stay reserved while this conductor process lives; after that, while
 * their worktree exists.
 */
export async function reservePortBlocks(
  homeDir: string,
  requests: readonly PortRequest[],
): Promise<Map<string, PortReservation>> {
  return withRegistry(homeDir, async (registry) => {
    const result = new Map<string, PortReservation>();
    const wanted = new Map(requests.map((request) => [request.worktree, request]));
    for (const reservation of registry.reservations) {
      const request = wanted.get(reservation.worktree);
      if (request && reservation.count === request.count) result.set(request.worktree, reservation);
    }
    registry.reservations = registry.reservations.filter(
      (reservation) =>
        result.has(reservation.worktree) ||
        (!wanted.has(reservation.worktree) && isLive(reservation)),
    );
    let pending = requests
      .filter((request) => !result.has(request.worktree))
      .map((request) => ({ request, offset: 0 }));
    while (pending.length > 0) {
      // Each request's next candidate that no reservation (old or just made) overlaps, then the
      // check of every candidate against the sockets held right now.
      const round: { request: PortRequest; offset: number; start: number }[] = [];
      for (const entry of pending) {
        const taken = [...registry.reservations, ...round.map(asBlock)];
        const found = nextFreeStart(taken, entry.request, entry.offset);
        if (found === undefined) {
          throw new OperationError(
            `no block of ${entry.request.count} free ports left between ${FIRST_PORT} and ${LAST_PORT}`,
          );
        }
        round.push({ request: entry.request, offset: found.offset, start: found.start });
      }
      const inUse = await portsInUse();
      const free = await Promise.all(
        round.map((entry) => inUse.allFree(entry.start, entry.request.count)),
      );
      pending = [];
      round.forEach((entry, index) => {
        if (!free[index]) {
          pending.push({ request: entry.request, offset: entry.offset + 1 });
          return;
        }
        const reservation: PortReservation = {
          start: entry.start,
          count: entry.request.count,
          worktree: entry.request.worktree,
          workspace: entry.request.workspace,
          runId: entry.request.runId,
          pid: process.pid,
        };
        registry.reservations.push(reservation);
        result.set(entry.request.worktree, reservation);
      });
    }
    return result;
  });
}

function asBlock(entry: { start: number; request: PortRequest }): { start: number; count: number } {
  return { start: entry.start, count: entry.request.count };
}

/** The first block from the request's preferred index (plus `offset`) that nothing overlaps. */
function nextFreeStart(
  taken: readonly { start: number; count: number }[],
  request: PortRequest,
  offset: number,
): { start: number; offset: number } | undefined {
  const slots = Math.floor((LAST_PORT - FIRST_PORT + 1) / request.count);
  for (let at = offset; at < slots; at++) {
    const start = FIRST_PORT + ((request.preferredIndex + at) % slots) * request.count;
    if (!overlaps(taken, start, request.count)) return { start, offset: at };
  }
  return undefined;
}

/**
 * Whether a reservation still holds its block: its worktree exists, or the conductor that
 * reserved it ahead of making the worktree still runs.
 */
function isLive(reservation: PortReservation): boolean {
  if (existsSync(reservation.worktree)) return true;
  return reservation.pid !== undefined && processExists(reservation.pid);
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
  const registry = await readRegistrySnapshot(registryFile(homeDir));
  return registry.reservations.find((reservation) => reservation.worktree === worktree);
}

function overlaps(
  reservations: readonly { start: number; count: number }[],
  start: number,
  count: number,
): boolean {
  return reservations.some(
    (other) => start < other.start + other.count && other.start < start + count,
  );
}

async function withRegistry<T>(
  homeDir: string,
  change: (registry: Registry) => Promise<T>,
): Promise<T> {
  const file = registryFile(homeDir);
  await mkdir(path.dirname(file), { recursive: true });
  // A holder killed with SIGKILL leaves the lock behind: it is taken over at once when its holder
  // is surely gone, else once untouched for `stale` ms.
  const release = await lockWithHolder(file, { stale: 10_000, waitMs: 20_000 });
  try {
    const registry = await readRegistryForChange(file);
    const result = await change(registry);
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      await writeFile(temporary, `${JSON.stringify(registry, null, 2)}\n`);
      await rename(temporary, file);
    } finally {
      // Gone after a rename; left over only when the write or the rename failed.
      await rm(temporary, { force: true });
    }
    return result;
  } finally {
    await release();
  }
}
