import { constants } from "node:fs";
import { copyFile, link, lstat, mkdir, readdir, readlink, rm, symlink } from "node:fs/promises";
import path from "node:path";
import type { ProcessOutcome } from "../../process/outcome.js";
import { askProgram } from "../../process/quick.js";
import type { SeedMode } from "../../schema/seed.js";
import type { SeedMethod } from "../events.js";

/** Runs a program to its end (through runProcess: cancellable, logged, its group ended on resume). */
export type ProgramRunner = (file: string, args: readonly string[]) => Promise<ProcessOutcome>;

/** The placement was cut short by a cancel (interrupt, fail-fast); the target is removed. */
export class PlacementCancelledError extends Error {
  constructor(target: string) {
    super(`placing ${target} was cancelled`);
  }
}

/**
 * Places a cached folder into a workspace.
 * - clone: each file a reflink clone (`FICLONE`: btrfs, XFS, APFS…) where the filesystem supports
 *   it, else a copy: either way the workspace's files are its own.
 * - hardlink: each file a hard link to the cache's (no data copied). Adding, deleting or replacing
 *   a file (npm install, rename-based writes) stays private; writing into an existing file in
 *   place writes the cache's file, and so every workspace's. Falls back to copies across
 *   filesystems.
 * - symlink: the folder is a symbolic link to the cache's folder; every write reaches the cache.
 * - copy: a plain copy.
 * Returns what was actually done. With `run`, hard links are made by GNU `cp -al` where it is
 * installed (one C process: 8 placements of 19,000 files took 1.6 s where the Node walk took 4.6 s,
 * whose promise per file cost more CPU than the links); anything else, or a `cp` that fails, takes
 * the Node walk.
 */
export async function placeFolder(
  source: string,
  target: string,
  mode: SeedMode,
  run?: ProgramRunner,
): Promise<SeedMethod> {
  await mkdir(path.dirname(target), { recursive: true });
  switch (mode) {
    case "symlink":
      await symlink(source, target, "dir");
      return "symlink";
    case "hardlink":
      if (run !== undefined && (await hasGnuCp())) {
        // -T: the target is the new folder itself, never a folder inside an existing one.
        const outcome = await run("cp", ["-al", "-T", "--", source, target]);
        if (outcome.reason === "exited") return "hardlink";
        await rm(target, { recursive: true, force: true });
        if (outcome.reason === "cancelled") throw new PlacementCancelledError(target);
        // Across filesystems (EXDEV) or any other refusal: the walk below decides, and says why.
      }
      try {
        await walk(source, target, (from, to) => link(from, to));
        return "hardlink";
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
        await rm(target, { recursive: true, force: true });
        await walk(source, target, (from, to) => copyFile(from, to));
        return "copy";
      }
    case "clone": {
      const reflink = await supportsReflink(source, path.dirname(target));
      const flag = reflink ? constants.COPYFILE_FICLONE_FORCE : 0;
      await walk(source, target, (from, to) => copyFile(from, to, flag));
      return reflink ? "reflink" : "copy";
    }
    case "copy":
      await walk(source, target, (from, to) => copyFile(from, to));
      return "copy";
    default:
      mode satisfies never;
      throw new Error(`internal error: unknown seed mode ${String(mode)}`);
  }
}

/**
 * Starts what placing in `modes` will ask (whether GNU cp is here) so that the answer is ready
 * when the fill ends: asked then, it put a spawn and its wait before the first placement.
 */
export function prepareToPlace(modes: readonly SeedMode[]): void {
  if (modes.includes("hardlink")) void hasGnuCp();
}

/**
 * Whether `cp` is GNU coreutils' (it has `-a`, `-l` and `-T`): asked once per process. BSD and
 * busybox `cp` (macOS, Alpine) differ in options and answers, so they are never assumed.
 */
let gnuCp: Promise<boolean> | undefined;
function hasGnuCp(): Promise<boolean> {
  gnuCp ??= askProgram("cp", ["--version"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" },
    timeoutMs: 5_000,
  })
    .then((result) => result.exitCode === 0 && /\bGNU coreutils\b/.test(result.stdout))
    .catch(() => false); // asked ahead of use (prepareToPlace): never an unhandled rejection
  return gnuCp;
}

/** Whether files can be reflink-cloned from `sourceDir`'s filesystem into `targetDir`, by trying once. */
const reflinkByPair = new Map<string, Promise<boolean>>();
function supportsReflink(sourceDir: string, targetDir: string): Promise<boolean> {
  const pair = `${sourceDir}\0${targetDir}`;
  let known = reflinkByPair.get(pair);
  if (known === undefined) {
    known = probeReflink(sourceDir, targetDir);
    reflinkByPair.set(pair, known);
  }
  return known;
}

async function probeReflink(sourceDir: string, targetDir: string): Promise<boolean> {
  const file = await firstFile(sourceDir);
  if (file === undefined) return false;
  const probe = path.join(targetDir, `.conductor-reflink-probe-${process.pid}`);
  try {
    await copyFile(file, probe, constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    await rm(probe, { force: true });
  }
}

async function firstFile(dir: string): Promise<string | undefined> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isFile()) return full;
    if (entry.isDirectory()) {
      const inner = await firstFile(full);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/**
 * Recreates the tree at `source` under `target` (which must not exist): folders made, symbolic
 * links copied as links (node_modules/.bin's are relative), files placed by `placeFile`. Folders
 * are walked in parallel: the file system calls queue on libuv's thread pool, which is what makes
 * 20,000 hard links take a second rather than several.
 */
async function walk(
  source: string,
  target: string,
  placeFile: (from: string, to: string) => Promise<void>,
): Promise<void> {
  const info = await lstat(source);
  await mkdir(target, { mode: info.mode & 0o7777 });
  const entries = await readdir(source, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const from = path.join(source, entry.name);
      const to = path.join(target, entry.name);
      if (entry.isDirectory()) return walk(from, to, placeFile);
      if (entry.isSymbolicLink()) return symlink(await readlink(from), to);
      if (entry.isFile()) return placeFile(from, to);
      // Sockets, FIFOs and devices have no place in a dependency folder: left out.
      return undefined;
    }),
  );
}
