import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";

/**
 * The files of a repository's git folder that git runs as code: `config` (core.fsmonitor,
 * filter drivers, gpg.program, include paths…) and the hooks. An agent with a shell can write
 * them, and the next git command conductor (or the user) runs would then run the agent's code,
 * outside its step. Read synchronously: a few small files, cheaper than trips through the pool.
 */
export interface GitFilesLook {
  /** The common git folder (`.git` of the main checkout). */
  dir: string;
  /** `config` as text; undefined when it cannot be read. */
  config: string | undefined;
  /** Hooks git would run (`*.sample` files are not), by name: content and mode. */
  hooks: ReadonlyMap<string, { content: Buffer; mode: number }>;
}

/** The mode of a hook that is a link or a folder: compared, never written back. */
const NOT_A_FILE = -1;

/** The common git folder of the main checkout at `root`, worked out once per root. */
const commonDirs = new Map<string, string>();

function commonDirOf(root: string): string {
  const known = commonDirs.get(root);
  if (known !== undefined) return known;
  let dir = path.join(root, ".git");
  try {
    if (!lstatSync(dir).isDirectory()) {
      // A `--separate-git-dir` checkout: `.git` is a file naming the folder.
      const named = readFileSync(dir, "utf8")
        .trim()
        .replace(/^gitdir: /, "");
      dir = path.resolve(root, named);
    }
  } catch {
    // no .git at all: nothing will be found there
  }
  commonDirs.set(root, dir);
  return dir;
}

/** What the git folder of the repository at `root` holds now. */
export function lookAtGitFiles(root: string): GitFilesLook {
  return readGitFiles(commonDirOf(root));
}

function readGitFiles(dir: string): GitFilesLook {
  let config: string | undefined;
  try {
    config = readFileSync(path.join(dir, "config"), "utf8");
  } catch {
    config = undefined;
  }
  const hooks = new Map<string, { content: Buffer; mode: number }>();
  let names: string[] = [];
  try {
    names = readdirSync(path.join(dir, "hooks"));
  } catch {
    names = [];
  }
  for (const name of names) {
    if (name.endsWith(".sample")) continue;
    const file = path.join(dir, "hooks", name);
    try {
      const info = lstatSync(file);
      // A link or folder counts by what it is, not by what it holds.
      const content = info.isFile()
        ? readFileSync(file)
        : Buffer.from(`(${info.mode.toString(8)})`);
      hooks.set(name, { content, mode: info.isFile() ? info.mode & 0o7777 : NOT_A_FILE });
    } catch {
      // removed meanwhile
    }
  }
  return { dir, config, hooks };
}

/** The git files that differ between two looks, as paths inside the git folder. */
export function gitFilesChanged(before: GitFilesLook, after: GitFilesLook): string[] {
  const changed: string[] = [];
  if (before.config !== after.config) changed.push("config");
  const names = new Set([...before.hooks.keys(), ...after.hooks.keys()]);
  for (const name of [...names].sort()) {
    if (!sameHook(before.hooks.get(name), after.hooks.get(name))) changed.push(`hooks/${name}`);
  }
  return changed;
}

/** Whether one git file (`config`, `hooks/<name>`) is the same in two looks. */
export function sameGitFile(a: GitFilesLook, b: GitFilesLook, entry: string): boolean {
  if (entry === "config") return a.config === b.config;
  const name = entry.slice("hooks/".length);
  return sameHook(a.hooks.get(name), b.hooks.get(name));
}

type Hook = { content: Buffer; mode: number } | undefined;

function sameHook(a: Hook, b: Hook): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.mode === b.mode && a.content.equals(b.content);
}

/**
 * Puts the git files listed in `changed` back as `trusted` had them, each only while it still
 * holds what `found` read (a file changed again since is left alone). What stood there is moved
 * to `keep`. Returns the paths put back.
 */
export function restoreGitFiles(
  trusted: GitFilesLook,
  found: GitFilesLook,
  changed: readonly string[],
  keep: string,
): string[] {
  const now = readGitFiles(trusted.dir);
  const restored: string[] = [];
  for (const entry of changed) {
    const file = path.join(trusted.dir, entry);
    const saved = path.join(keep, entry);
    try {
      if (entry === "config") {
        if (trusted.config === undefined || now.config !== found.config) continue;
        mkdirSync(path.dirname(saved), { recursive: true });
        if (found.config !== undefined) writeFileSync(saved, found.config, { mode: 0o600 });
        writeAtomically(file, trusted.config, 0o644);
      } else {
        const name = entry.slice("hooks/".length);
        const seen = found.hooks.get(name);
        if (!sameHook(now.hooks.get(name), seen)) continue;
        if (seen !== undefined) {
          mkdirSync(path.dirname(saved), { recursive: true });
          renameSync(file, saved);
        }
        const was = trusted.hooks.get(name);
        if (was !== undefined && was.mode !== NOT_A_FILE)
          writeAtomically(file, was.content, was.mode);
      }
      restored.push(entry);
    } catch {
      // left as it is; the failure says what changed
    }
  }
  return restored;
}

/** Writes `file` through a temporary file and a rename, so git never reads half of it. */
function writeAtomically(file: string, content: string | Buffer, mode: number): void {
  const temporary = `${file}.conductor-${process.pid}`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, file);
}
