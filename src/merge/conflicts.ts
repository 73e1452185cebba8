import os from "node:os";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import type { RunState } from "../executor/types.js";
import { resolveCommit } from "../git/facts.js";
import { mergeTree, touchedPathsByHead, treeOf } from "../git/merge-tree.js";
import { git } from "../git/worktree.js";
import { type MergeOrder, suggestMergeOrder } from "./order.js";
import { mapLimit } from "./pool.js";

/** How a pair's answer was found: by git merging them, or because they touch no common path. */
export type ForecastMethod = "merge-tree" | "disjoint";

/** Whether two commits merge cleanly, and the paths that collide. */
export interface MergeForecast {
  clean: boolean;
  /** Conflicted paths, sorted; empty when clean. */
  files: string[];
  method: ForecastMethod;
}

/** A finished workspace and how it merges into the base branch as it is now. */
export interface WorkspaceForecast {
  name: string;
  branch: string;
  /** The branch's head now. */
  head: string;
  /** Lines changed on the branch (from the run's record). */
  work: number;
  againstBase: MergeForecast;
}

/** How two finished workspaces merge with each other. */
export interface PairForecast extends MergeForecast {
  a: string;
  b: string;
}

/** A workspace left out of the forecast, and why. */
export interface SkippedWorkspace {
  name: string;
  reason: string;
  /** Set when its changes are already in the base branch (merged before, e.g. squashed). */
  alreadyInBase?: true;
}

/** `conductor conflicts` as data (also its `--json`). */
export interface ConflictForecast {
  runId: string;
  /** The base branch as it is now (it may have moved since the run started). */
  base: { ref: string; commit: string };
  workspaces: WorkspaceForecast[];
  pairs: PairForecast[];
  skipped: SkippedWorkspace[];
  order: MergeOrder;
}

/** git processes at once: enough to overlap process start-up, few enough for a shared machine. */
const PARALLEL_GIT = Math.max(2, Math.min(8, os.availableParallelism() * 2));

/** A workspace with a branch worth merging: its name, branch and head now. */
interface Side {
  found: FoundWorkspace;
  head: string;
}

/**
 * The base branch's commit now: the run's base ref resolved again (it may have moved since the
 * run started), else the run's base commit when the ref is gone.
 */
export async function currentBase(
  run: RunState,
  heads?: ReadonlyMap<string, string>,
): Promise<{ ref: string; commit: string }> {
  const { base, repo } = run.plan;
  const commit = heads?.get(base.ref) ?? (await resolveCommit(repo.root, base.ref)) ?? base.commit;
  return { ref: base.ref, commit };
}

/**
 * The finished workspaces of a run whose branch holds work, with their heads now (from
 * {@link branchHeads}), and the ones left out with why.
 */
export function finishedSides(
  found: readonly FoundWorkspace[],
  heads: ReadonlyMap<string, string>,
): { sides: Side[]; skipped: SkippedWorkspace[] } {
  const sides: Side[] = [];
  const skipped: SkippedWorkspace[] = [];
  for (const entry of found) {
    const { workspace, state } = entry;
    const head = heads.get(workspace.branch);
    if (state.status !== "succeeded" && state.status !== "failed") {
      skipped.push({ name: workspace.name, reason: `not finished (${state.status})` });
    } else if (head === undefined) {
      skipped.push({ name: workspace.name, reason: `branch ${workspace.branch} is gone` });
    } else if (head === state.startCommit) {
      skipped.push({ name: workspace.name, reason: "no commits on its branch" });
    } else {
      sides.push({ found: entry, head });
    }
  }
  return { sides, skipped };
}

/**
 * Forecasts the merges of a run's finished workspaces: each against the base branch as it is now
 * and (with `pairs`) each pair, with `git merge-tree` (no checkout touched), and suggests a merge
 * order. Two branches that touched no common path since the run's base commit cannot conflict,
 * so git is asked only about the others, with bounded parallelism.
 */
export async function forecastConflicts(
  run: RunState,
  found: readonly FoundWorkspace[],
  options: {
    pairs: boolean;
    /** The branches' heads, when the caller read them already (and judges the same ones). */
    heads?: ReadonlyMap<string, string>;
  },
): Promise<ConflictForecast> {
  const root = run.plan.repo.root;
  const start = run.plan.base.commit;
  const heads = options.heads ?? (await branchHeads(root));
  const { sides, skipped } = finishedSides(found, heads);
  const base = await currentBase(run, heads);
  const touched = await touchedPathsByHead(root, start, [
    base.commit,
    ...sides.map((side) => side.head),
  ]);
  const touchedAt = (head: string) => {
    const paths = touched.get(head);
    return paths === undefined ? undefined : withFolders(paths);
  };
  const baseTouched = touchedAt(base.commit);
  const sideTouched = sides.map((side) => touchedAt(side.head));
  const jobs: { a: number; b: number }[] = [];
  // Index -1 stands for the base branch.
  for (let a = 0; a < sides.length; a++) jobs.push({ a: -1, b: a });
  if (options.pairs) {
    for (let a = 0; a < sides.length; a++)
      for (let b = a + 1; b < sides.length; b++) jobs.push({ a, b });
  }
  const headOf = (index: number) => (index < 0 ? base.commit : (sides[index] as Side).head);
  const touchedOf = (index: number) => (index < 0 ? baseTouched : sideTouched[index]);
  const [results, baseTree] = await Promise.all([
    mapLimit(jobs, PARALLEL_GIT, async ({ a, b }) =>
      forecastPair(root, headOf(a), headOf(b), touchedOf(a), touchedOf(b)),
    ),
    treeOf(root, base.commit),
  ]);
  const workspaces: WorkspaceForecast[] = [];
  const pairs: PairForecast[] = [];
  const landed = new Set<string>();
  jobs.forEach(({ a, b }, index) => {
    const { tree, ...result } = results[index] as MergeForecast & { tree?: string };
    const side = sides[b] as Side;
    if (a < 0 && tree === baseTree) {
      // Merging it would change nothing: a squash merge left its commits out of the base's
      // history, but their changes are in it.
      landed.add(side.found.workspace.name);
      skipped.push({
        name: side.found.workspace.name,
        reason: `its changes are already in ${base.ref} (merged before); nothing to merge`,
        alreadyInBase: true,
      });
    } else if (a < 0) {
      const diff = side.found.state.diff;
      workspaces.push({
        name: side.found.workspace.name,
        branch: side.found.workspace.branch,
        head: side.head,
        work: diff === undefined ? 0 : diff.insertions + diff.deletions,
        againstBase: result,
      });
    } else if (
      !landed.has((sides[a] as Side).found.workspace.name) &&
      !landed.has(side.found.workspace.name)
    ) {
      pairs.push({
        a: (sides[a] as Side).found.workspace.name,
        b: side.found.workspace.name,
        ...result,
      });
    }
  });
  const conflictsOf = new Set(
    pairs
      .filter((pair) => !pair.clean)
      .flatMap((pair) => [`${pair.a}\0${pair.b}`, `${pair.b}\0${pair.a}`]),
  );
  const failed = new Set(
    sides
      .filter((side) => side.found.state.status === "failed")
      .map((side) => side.found.workspace.name),
  );
  const order = suggestMergeOrder(
    workspaces.map((entry) => ({
      name: entry.name,
      work: entry.work,
      cleanAgainstBase: entry.againstBase.clean,
      failed: failed.has(entry.name),
    })),
    (a, b) => conflictsOf.has(`${a}\0${b}`),
  );
  return { runId: run.runId, base, workspaces, pairs, skipped, order };
}

/**
 * One merge forecast: disjoint paths need no git, the rest ask `git merge-tree` (and keep the
 * merged tree, to tell a merge that would change nothing).
 */
async function forecastPair(
  root: string,
  a: string,
  b: string,
  touchedA: Touched | undefined,
  touchedB: Touched | undefined,
): Promise<MergeForecast & { tree?: string }> {
  if (a === b) return { clean: true, files: [], method: "disjoint" };
  if (touchedA !== undefined && touchedB !== undefined && disjoint(touchedA, touchedB)) {
    return { clean: true, files: [], method: "disjoint" };
  }
  const result = await mergeTree(root, a, b);
  return {
    clean: result.clean,
    files: result.conflicts,
    method: "merge-tree",
    ...(result.clean ? { tree: result.tree } : {}),
  };
}

/** Paths a branch touched, and the folders above them. */
interface Touched {
  files: Set<string>;
  folders: Set<string>;
}

function withFolders(files: Set<string>): Touched {
  const folders = new Set<string>();
  for (const file of files) {
    for (let slash = file.indexOf("/"); slash >= 0; slash = file.indexOf("/", slash + 1)) {
      folders.add(file.slice(0, slash));
    }
  }
  return { files, folders };
}

/**
 * Whether two branches cannot collide: no path touched by both, and no file of one where the
 * other has a folder (a file/folder conflict).
 */
function disjoint(a: Touched, b: Touched): boolean {
  const meets = (x: ReadonlySet<string>, y: ReadonlySet<string>) => {
    const [small, large] = x.size <= y.size ? [x, y] : [y, x];
    for (const item of small) if (large.has(item)) return true;
    return false;
  };
  return !meets(a.files, b.files) && !meets(a.files, b.folders) && !meets(a.folders, b.files);
}

/** Every local branch (short name) with its head commit: one git process. */
export async function branchHeads(root: string): Promise<Map<string, string>> {
  const out = await git(root, ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"]);
  const heads = new Map<string, string>();
  for (const line of out.split("\n")) {
    const space = line.indexOf(" ");
    if (space < 0) continue;
    heads.set(line.slice(space + 1 + "refs/heads/".length), line.slice(0, space));
  }
  return heads;
}
