import { lstat, mkdir, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { isInside } from "../../fs/is-inside.js";
import { git } from "../../git/worktree.js";
import { runProcess } from "../../process/run.js";
import { copyIntoWorkspace } from "../copy-files.js";
import type { SeedMethod } from "../events.js";
import { scriptFailure } from "../failure.js";
import { cacheRoot, entryPaths, repoCacheDir } from "../seed/cache.js";
import { recordLink } from "../seed/in-use.js";
import { NoKeyFilesError, seedKey } from "../seed/key.js";
import {
  PlacementCancelledError,
  type ProgramRunner,
  placeFolder,
  prepareToPlace,
} from "../seed/place.js";
import { heldEntry } from "../seed/populate.js";
import type { StepContext, StepOutcome } from "./context.js";

/**
 * Gives the workspace its `workspaces.seed` folders from the cache entry of its key, filling the
 * entry first (the seed script in a fresh checkout of the workspace's start commit) when no run
 * has made it yet. A workspace whose key files differ from the base's (its branch changed the
 * lockfile) simply has another key: its own setup fills its own entry. Skipped without a seed
 * script (no `seed.script` and no setup script).
 */
export async function seedStep(ctx: StepContext): Promise<StepOutcome> {
  const seed = ctx.plan.seed;
  const script = seed?.script ?? ctx.workspace.scripts.setup;
  if (seed === undefined || script === undefined) return { status: "skipped" };
  const worktree = ctx.workspace.path;
  const folders = seed.folders.map((folder) => folder.path);
  const fail = (message: string): StepOutcome => ({
    status: "failed",
    failure: { reason: "io-error", step: "seed", message },
  });

  let key: Awaited<ReturnType<typeof seedKey>>;
  try {
    key = await seedKey(worktree, seed, script);
  } catch (error) {
    if (error instanceof NoKeyFilesError) return fail(error.message);
    throw error;
  }

  const realWorktree = await realpath(worktree);
  for (const folder of folders) {
    const target = path.join(worktree, folder);
    const parent = path.dirname(target);
    await mkdir(parent, { recursive: true });
    // A symlink the branch has on the way would put the folder outside the worktree.
    if (!isInside(realWorktree, await realpath(parent)))
      return fail(`seed folder ${folder} would leave the worktree (a symbolic link on its path)`);
    if (!(await exists(target))) continue;
    // This step placed it before being cut off or retried: it is placed anew, whole.
    if (ctx.rerun) await rm(target, { recursive: true, force: true });
    else
      return fail(
        `seed folder ${folder} already exists in the new worktree (its branch has files there); remove them from the branch, or the folder from workspaces.seed`,
      );
  }

  prepareToPlace(seed.folders.map((folder) => folder.mode));
  const repoDir = repoCacheDir(cacheRoot(ctx.homeDir), ctx.plan.repo.name);
  const phase = (name: "waiting" | "populating" | "placing") =>
    ctx.emit({
      type: "seed.phase",
      workspace: ctx.workspace.name,
      phase: name,
      key: key.key,
      folders,
    });
  const logFile = ctx.paths.logFile(ctx.workspace.name, "seed");
  const commit = ctx.state().startCommit ?? (await git(worktree, ["rev-parse", "HEAD"])).trim();
  const entry = await heldEntry({
    repoRoot: ctx.plan.repo.root,
    repoDir,
    key: key.key,
    keyFiles: key.files,
    seed,
    script,
    commit,
    copyFiles: async (checkout) => {
      await copyIntoWorkspace(ctx.plan.repo.root, checkout, ctx.plan.copy);
    },
    env: ctx.env(),
    timeoutMs: ctx.workspace.scriptTimeoutMs,
    logFile,
    redactor: ctx.redactor(),
    signal: ctx.signal,
    onWaiting: () => phase("waiting"),
    onFilling: () => phase("populating"),
  });
  if (entry.status === "script-failed") {
    const failure = scriptFailure(entry.outcome, "seed", logFile);
    return failure === undefined
      ? fail("seed script did not fill the cache")
      : { status: "failed", failure };
  }

  phase("placing");
  const paths = entryPaths(repoDir, key.key);
  // A placing program (cp) runs like a script: cancellable, logged, marked with the run's
  // environment so that a resumed run ends one its killed conductor left behind.
  const run: ProgramRunner = (file, args) =>
    runProcess({
      file,
      args,
      cwd: worktree,
      env: ctx.env(),
      signal: ctx.signal,
      timeoutMs: ctx.workspace.scriptTimeoutMs,
      logFile,
      redactor: ctx.redactor(),
    });
  const placed: { path: string; method: SeedMethod }[] = [];
  try {
    for (const folder of seed.folders) {
      const made = entry.manifest.folders.find((f) => f.path === folder.path)?.present === true;
      const source = paths.folder(folder.path);
      const target = path.join(worktree, folder.path);
      if (made && folder.mode === "symlink") await recordLink(repoDir, key.key, target, source);
      const method = made ? await placeFolder(source, target, folder.mode, run) : "absent";
      placed.push({ path: folder.path, method });
    }
  } catch (error) {
    if (!(error instanceof PlacementCancelledError)) throw error;
    return {
      status: "failed",
      failure: { reason: "cancelled", step: "seed", message: error.message },
    };
  } finally {
    entry.release();
  }
  return {
    status: "succeeded",
    result: { step: "seed", key: key.key, folders: placed, populated: entry.status === "filled" },
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
