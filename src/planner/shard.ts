import { UsageError } from "../errors.js";
import type { Shard } from "./types.js";

/** Most shards a run is split into: GitHub Actions rejects a matrix of more than 256 jobs. */
export const MAX_SHARDS = 256;

/** Parses `--shard i/n` (1-based); throws {@link UsageError} on anything else. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UsageError(
      `--shard ${text} is not a shard: write i/n with 1 ≤ i ≤ n, e.g. --shard 2/4`,
    );
  }
  if (count > MAX_SHARDS) {
    throw new UsageError(
      `--shard ${text} asks for ${match[2]} shards; conductor splits a run into at most ${MAX_SHARDS} (a GitHub Actions matrix holds at most 256 jobs)`,
    );
  }
  return { index, count };
}

/** A group of tasks that must run on one machine: a connected component of depends_on. */
export interface ShardUnit {
  /** Ids of the tasks in this group, in config order. */
  taskIds: string[];
  /** How many workspaces the group has (its cost). */
  weight: number;
  /** Config position of its first task, for a stable tie-break. */
  firstIndex: number;
}

/**
 * Assigns groups to `count` shards: heaviest group first, each to the currently lightest shard
 * (lowest index on ties). Deterministic, keeps every dependency chain together, and balances the
 * number of workspaces per shard. Returns, for each shard, the ids of its tasks.
 */
export function partitionIntoShards(units: readonly ShardUnit[], count: number): string[][] {
  const shards = Array.from({ length: count }, () => ({ load: 0, taskIds: [] as string[] }));
  const ordered = [...units].sort((a, b) => b.weight - a.weight || a.firstIndex - b.firstIndex);
  for (const unit of ordered) {
    let lightest = shards[0] as (typeof shards)[number];
    for (const shard of shards) if (shard.load < lightest.load) lightest = shard;
    lightest.load += unit.weight;
    lightest.taskIds.push(...unit.taskIds);
  }
  return shards.map((shard) => shard.taskIds);
}

/** The GitHub Actions matrix for `n` shards: `{"include":[{"shard":"1/n"},…]}`. */
export function githubMatrix(count: number): { include: { shard: string }[] } {
  return {
    include: Array.from({ length: count }, (_, index) => ({ shard: `${index + 1}/${count}` })),
  };
}
