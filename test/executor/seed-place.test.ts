// Placing a cached folder into a workspace by hard links: GNU `cp -al` where it is installed,
// the Node walk otherwise or when cp refuses, and the same tree either way.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  PlacementCancelledError,
  type ProgramRunner,
  placeFolder,
} from "../../src/executor/seed/place.js";
import { runProcess } from "../../src/process/run.js";
import { Redactor } from "../../src/secrets/redact.js";

const HAS_GNU_CP = /GNU coreutils/.test(
  spawnSync("cp", ["--version"], { encoding: "utf8" }).stdout ?? "",
);
/** tmpfs on another device than the temp folder: hard links between them fail with EXDEV. */
const OTHER_DEVICE = "/dev/shm";
const HAS_OTHER_DEVICE =
  existsSync(OTHER_DEVICE) && statSync(OTHER_DEVICE).dev !== statSync(os.tmpdir()).dev;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(parent = os.tmpdir()): string {
  const dir = mkdtempSync(path.join(parent, "conductor-place-"));
  dirs.push(dir);
  return dir;
}

/** A small node_modules: nested folders, an executable, a relative bin link, an empty folder. */
function cacheFolder(root: string): string {
  const folder = path.join(root, "cache", "node_modules");
  mkdirSync(path.join(folder, "pkg", "lib", "deep"), { recursive: true });
  mkdirSync(path.join(folder, ".bin"));
  mkdirSync(path.join(folder, "empty"));
  writeFileSync(path.join(folder, "pkg", "package.json"), '{"name":"pkg"}\n');
  writeFileSync(path.join(folder, "pkg", "lib", "deep", "index.js"), "module.exports = 1;\n");
  writeFileSync(path.join(folder, "pkg", "cli.js"), "#!/usr/bin/env node\n");
  chmodSync(path.join(folder, "pkg", "cli.js"), 0o755);
  symlinkSync("../pkg/cli.js", path.join(folder, ".bin", "pkg"));
  return folder;
}

/** Every entry under `dir`: kind, mode and content (or link target), by relative path. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, name);
    const info = lstatSync(full);
    const mode = (info.mode & 0o777).toString(8);
    if (info.isSymbolicLink()) out[name] = `link -> ${readlinkSync(full)}`;
    else if (info.isDirectory()) out[name] = `dir ${mode}`;
    else out[name] = `file ${mode} ${readFileSync(full, "utf8")}`;
  }
  return out;
}

/** runProcess as the seed step uses it, recording each program it starts. */
function runner(root: string, signal = new AbortController().signal) {
  const started: string[][] = [];
  const run: ProgramRunner = (file, args) => {
    started.push([file, ...args]);
    return runProcess({
      file,
      args,
      cwd: root,
      env: {},
      signal,
      timeoutMs: 60_000,
      logFile: path.join(root, "seed.log"),
      redactor: new Redactor([]),
    });
  };
  return { run, started };
}

describe("placing a seeded folder by hard links", () => {
  it.skipIf(!HAS_GNU_CP)(
    "GNU cp -al makes the same tree as the Node walk: every file the cache's inode, folders the workspace's own",
    async () => {
      const root = tempDir();
      const source = cacheFolder(root);
      const { run, started } = runner(root);
      const byCp = path.join(root, "ws-1", "node_modules");
      const byWalk = path.join(root, "ws-2", "node_modules");

      expect(await placeFolder(source, byCp, "hardlink", run)).toBe("hardlink");
      expect(await placeFolder(source, byWalk, "hardlink")).toBe("hardlink");

      expect(started).toEqual([["cp", "-al", "-T", "--", source, byCp]]);
      expect(tree(byCp)).toEqual(tree(source));
      expect(tree(byWalk)).toEqual(tree(source));
      for (const file of ["pkg/package.json", "pkg/lib/deep/index.js", "pkg/cli.js"]) {
        expect(statSync(path.join(byCp, file)).ino).toBe(statSync(path.join(source, file)).ino);
      }
      for (const folder of ["", "pkg", "pkg/lib/deep", "empty"]) {
        expect(statSync(path.join(byCp, folder)).ino).not.toBe(
          statSync(path.join(source, folder)).ino,
        );
      }
      // A file added or deleted in the workspace stays there.
      writeFileSync(path.join(byCp, "pkg", "added.js"), "x");
      rmSync(path.join(byCp, "pkg", "package.json"));
      expect(tree(source)).toEqual(tree(byWalk));
    },
  );

  it.skipIf(!HAS_GNU_CP || !HAS_OTHER_DEVICE)(
    "across filesystems cp -al refuses; its partial folder is removed and the folder is copied whole",
    async () => {
      const root = tempDir();
      const source = cacheFolder(root);
      const { run, started } = runner(root);
      const target = path.join(tempDir(OTHER_DEVICE), "ws", "node_modules");

      expect(await placeFolder(source, target, "hardlink", run)).toBe("copy");

      expect(started).toHaveLength(1);
      expect(readFileSync(path.join(root, "seed.log"), "utf8")).toMatch(/cross-device link/i);
      expect(tree(target)).toEqual(tree(source));
      expect(statSync(path.join(target, "pkg", "package.json")).ino).not.toBe(
        statSync(path.join(source, "pkg", "package.json")).ino,
      );
    },
  );

  it.skipIf(!HAS_GNU_CP)(
    "a cancelled placement leaves no folder behind and says it was cancelled",
    async () => {
      const root = tempDir();
      const source = cacheFolder(root);
      const controller = new AbortController();
      controller.abort();
      const { run } = runner(root, controller.signal);
      const target = path.join(root, "ws", "node_modules");

      await expect(placeFolder(source, target, "hardlink", run)).rejects.toBeInstanceOf(
        PlacementCancelledError,
      );
      expect(existsSync(target)).toBe(false);
    },
  );
});
