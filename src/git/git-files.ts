import { randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { ownEnvironment } from "../process/settled-environment.js";

/**
 * The files of a repository's git folder that git runs as code: `config` (core.fsmonitor,
 * filter drivers, gpg.program, include paths…) and the hooks. An agent with a shell can write
 * them, and the next git command conductor (or the user) runs would then run the agent's code,
 * outside its step. With them the files through which git shows other parents than the stored
 * ones ({@link HISTORY_FILES}), and those through which it hides files of the main checkout or
 * gives them filters ({@link INFO_FILES}). Read synchronously: a few small files, cheaper than
 * trips through the pool.
 */
export interface GitFilesLook {
  /** The common git folder (`.git` of the main checkout). */
  dir: string;
  /** `config`; undefined when it cannot be read. */
  config: GitFile | undefined;
  /** What `hooks` itself is: a folder, a link (to where), or nothing. */
  hooksFolder: string;
  /** Hooks git would run (`*.sample` files are not), by name. */
  hooks: ReadonlyMap<string, GitFile>;
  /** The hooks of `core.hooksPath` when it names another folder (husky's `.husky/_`). */
  hooksPath?: { folder: string; hooks: ReadonlyMap<string, GitFile> };
  /**
   * `config.worktree` files, by path inside the git folder: the main checkout's, and with
   * `extensions.worktreeConfig` (which `git sparse-checkout init` sets) each linked worktree's
   * (`worktrees/<id>/config.worktree`), config git reads there as it reads `config`.
   */
  worktreeConfigs?: ReadonlyMap<string, GitFile>;
  /**
   * The config files git reads for every repository of the user and the machine (the global one,
   * where `GIT_CONFIG_GLOBAL` or the home folder puts it, and the system's), by absolute path,
   * those that are there. Agents share the user's home: a filter driver an agent defined there
   * would run in conductor's own `git add`.
   */
  sharedConfigs?: ReadonlyMap<string, GitFile>;
  /** The {@link HISTORY_FILES} that are there, by path inside the git folder. */
  historyFiles?: ReadonlyMap<string, GitFile>;
  /** What `info` itself is, as {@link hooksFolder} says it (it holds the files below). */
  infoFolder?: string;
  /** The {@link INFO_FILES} that are there, by path inside the git folder. */
  infoFiles?: ReadonlyMap<string, GitFile>;
}

/**
 * Files of the git folder through which git shows other parents than the stored ones:
 * `info/grafts` (still read, with a warning), which changes every history git shows you.
 * Conductor's own looks at an agent's commits read past it (see `storedHistory`). Not
 * `shallow`: `git fetch --depth` writes it, and those looks read past it too.
 */
export const HISTORY_FILES: readonly string[] = ["info/grafts"];

/**
 * Files of the git folder through which git hides files of the main checkout or gives them
 * filters: `info/exclude` (an agent lists a file there, then drops it into the main checkout: no
 * status shows it, and the user's next test run runs it), `info/attributes` (filter and diff
 * drivers by name, ahead of every `.gitattributes`) and `info/sparse-checkout` (which files the
 * main checkout leaves out). A linked worktree's own `info/sparse-checkout` concerns only it.
 */
export const INFO_FILES: readonly string[] = [
  "info/exclude",
  "info/attributes",
  "info/sparse-checkout",
];

/**
 * Where git looks for the config of the user and of the machine, as it does for conductor's own
 * git: the user's in `GIT_CONFIG_GLOBAL` when set, else in `~/.gitconfig` and the XDG
 * `git/config`; the machine's in `GIT_CONFIG_SYSTEM` (else `/etc/gitconfig`) unless
 * `GIT_CONFIG_NOSYSTEM` is true.
 */
export function sharedConfigPaths(env: Readonly<NodeJS.ProcessEnv> = ownEnvironment()): string[] {
  const paths: string[] = [];
  const home = env.HOME;
  if (env.GIT_CONFIG_GLOBAL !== undefined) {
    if (env.GIT_CONFIG_GLOBAL !== "" && env.GIT_CONFIG_GLOBAL !== "/dev/null")
      paths.push(path.resolve(env.GIT_CONFIG_GLOBAL));
  } else {
    const xdg = env.XDG_CONFIG_HOME || (home ? path.join(home, ".config") : undefined);
    if (xdg) paths.push(path.join(xdg, "git", "config"));
    if (home) paths.push(path.join(home, ".gitconfig"));
  }
  const noSystem = env.GIT_CONFIG_NOSYSTEM;
  if (noSystem === undefined || noSystem === "" || /^(0|false|no|off)$/i.test(noSystem)) {
    const system = env.GIT_CONFIG_SYSTEM ?? "/etc/gitconfig";
    if (system !== "" && system !== "/dev/null") paths.push(path.resolve(system));
  }
  return paths;
}

/** One git file as a look saw it: a regular file (content, mode), a link (target) or other. */
export type GitFile =
  | { kind: "file"; content: Buffer; mode: number }
  | { kind: "link"; target: string }
  | { kind: "other"; mode: number };

/**
 * What the common git folder `dir` holds now, with the hooks of `hooksFolder` (where
 * `core.hooksPath` points) when that is another folder: a gitignored one (husky's `.husky/_`)
 * shows in no status.
 */
export function lookAtGitFiles(dir: string, hooksFolder?: string): GitFilesLook {
  const common = path.join(dir, "hooks");
  const commonKind = describeFolder(common);
  const config = readGitFile(path.join(dir, "config"));
  const look: GitFilesLook = {
    dir,
    config,
    hooksFolder: commonKind,
    hooks: readHooks(common, commonKind),
    worktreeConfigs: readWorktreeConfigs(dir, config),
    sharedConfigs: readSharedConfigs(),
    historyFiles: readHistoryFiles(dir),
    ...readInfo(dir),
  };
  if (hooksFolder !== undefined && path.resolve(hooksFolder) !== common) {
    look.hooksPath = {
      folder: hooksFolder,
      hooks: readHooks(hooksFolder, describeFolder(hooksFolder)),
    };
  }
  return look;
}

/**
 * The hooks in `folder` (not `*.sample`); none unless it is a folder (`kind`, from
 * {@link describeFolder}: a link to a folder is not followed).
 */
function readHooks(folder: string, kind: string): Map<string, GitFile> {
  const hooks = new Map<string, GitFile>();
  if (kind !== "folder") return hooks;
  let names: string[] = [];
  try {
    names = readdirSync(folder);
  } catch {
    names = [];
  }
  for (const name of names) {
    if (name.endsWith(".sample")) continue;
    const file = readGitFile(path.join(folder, name));
    if (file !== undefined) hooks.set(name, file);
  }
  return hooks;
}

/** The {@link HISTORY_FILES} of the git folder `dir` that are there. */
function readHistoryFiles(dir: string): Map<string, GitFile> {
  return readExisting(HISTORY_FILES, (entry) => path.join(dir, entry));
}

/**
 * What `info` of the git folder `dir` is, and the {@link INFO_FILES} in it (none looked for when
 * there is no `info`: the common case of a repository made without git's templates).
 */
function readInfo(dir: string): { infoFolder: string; infoFiles: Map<string, GitFile> } {
  const infoFolder = describeFolder(path.join(dir, "info"));
  return {
    infoFolder,
    infoFiles:
      infoFolder === "none"
        ? new Map<string, GitFile>()
        : readExisting(INFO_FILES, (entry) => path.join(dir, entry)),
  };
}

/** The files of {@link sharedConfigPaths} that are there. */
function readSharedConfigs(): Map<string, GitFile> {
  return readExisting(sharedConfigPaths(), (file) => file);
}

/** The files of `entries` (each at `pathOf(entry)`) that are there, by entry. */
function readExisting(
  entries: readonly string[],
  pathOf: (entry: string) => string,
): Map<string, GitFile> {
  const found = new Map<string, GitFile>();
  for (const entry of entries) {
    const file = readGitFile(pathOf(entry));
    if (file !== undefined) found.set(entry, file);
  }
  return found;
}

/** The `config.worktree` files of {@link GitFilesLook.worktreeConfigs} that are there. */
function readWorktreeConfigs(dir: string, config: GitFile | undefined): Map<string, GitFile> {
  const entries = [WORKTREE_CONFIG];
  // Each worktree's only where git reads them (the extension is in `config`, itself watched).
  if (config?.kind === "file" && WORKTREE_CONFIG_ON.test(config.content.toString("utf8"))) {
    let ids: string[] = [];
    try {
      ids = readdirSync(path.join(dir, "worktrees"));
    } catch {
      ids = [];
    }
    entries.push(...ids.map((id) => `worktrees/${id}/${WORKTREE_CONFIG}`));
  }
  return readExisting(entries, (entry) => path.join(dir, entry));
}

const WORKTREE_CONFIG = "config.worktree";

/** The folder of {@link HISTORY_FILES} and {@link INFO_FILES}, as an entry of its own. */
const INFO = "info";

/** `worktreeConfig = true` (or yes, on, 1) on a line of its own, as `[extensions]` holds it. */
const WORKTREE_CONFIG_ON = /^\s*worktreeconfig\s*=\s*(true|yes|on|1)\s*$/im;

/** Whether an entry of {@link gitFilesChanged} is one of the user's or machine's config files. */
function isSharedConfig(entry: string): boolean {
  return sharedConfigPaths().includes(entry);
}

/** Whether an entry of {@link gitFilesChanged} is a `config.worktree` file. */
function isWorktreeConfig(entry: string): boolean {
  return entry === WORKTREE_CONFIG || /^worktrees\/[^/]+\/config\.worktree$/.test(entry);
}

/** A file as it is, without following a link; undefined when there is none. */
function readGitFile(file: string): GitFile | undefined {
  try {
    const info = lstatSync(file);
    if (info.isSymbolicLink()) return { kind: "link", target: readlinkSync(file) };
    if (!info.isFile()) return { kind: "other", mode: info.mode };
    return { kind: "file", content: readFileSync(file), mode: info.mode & 0o7777 };
  } catch {
    return undefined; // none, or removed meanwhile
  }
}

function describeFolder(folder: string): string {
  try {
    const info = lstatSync(folder);
    if (info.isSymbolicLink()) return `link to ${readlinkSync(folder)}`;
    return info.isDirectory() ? "folder" : "not a folder";
  } catch {
    return "none";
  }
}

/** The git files that differ between two looks, as paths inside the git folder. */
export function gitFilesChanged(before: GitFilesLook, after: GitFilesLook): string[] {
  const changed: string[] = [];
  if (!sameFile(before.config, after.config)) changed.push("config");
  for (const entry of HISTORY_FILES) {
    if (!sameFile(before.historyFiles?.get(entry), after.historyFiles?.get(entry)))
      changed.push(entry);
  }
  if (before.infoFolder !== after.infoFolder) changed.push(INFO);
  for (const entry of INFO_FILES) {
    if (!sameFile(before.infoFiles?.get(entry), after.infoFiles?.get(entry))) changed.push(entry);
  }
  const configsBefore = before.worktreeConfigs ?? new Map<string, GitFile>();
  const configsAfter = after.worktreeConfigs ?? new Map<string, GitFile>();
  for (const entry of [...new Set([...configsBefore.keys(), ...configsAfter.keys()])].sort()) {
    if (!sameFile(configsBefore.get(entry), configsAfter.get(entry))) changed.push(entry);
  }
  if (before.hooksFolder !== after.hooksFolder) changed.push("hooks");
  const names = new Set([...before.hooks.keys(), ...after.hooks.keys()]);
  for (const name of [...names].sort()) {
    if (!sameFile(before.hooks.get(name), after.hooks.get(name))) changed.push(`hooks/${name}`);
  }
  const sharedBefore = before.sharedConfigs ?? new Map<string, GitFile>();
  const sharedAfter = after.sharedConfigs ?? new Map<string, GitFile>();
  for (const entry of [...new Set([...sharedBefore.keys(), ...sharedAfter.keys()])].sort()) {
    if (!sameFile(sharedBefore.get(entry), sharedAfter.get(entry))) changed.push(entry);
  }
  const a = before.hooksPath?.hooks ?? new Map<string, GitFile>();
  const b = after.hooksPath?.hooks ?? new Map<string, GitFile>();
  const folder = after.hooksPath?.folder ?? before.hooksPath?.folder;
  for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    if (!sameFile(a.get(name), b.get(name))) changed.push(path.join(folder ?? "", name));
  }
  return changed;
}

/**
 * Where an entry of {@link gitFilesChanged} is: `config`, the {@link HISTORY_FILES}, `info` and
 * the {@link INFO_FILES}, `hooks`, `hooks/<name>` and the `config.worktree` files in the git
 * folder; a hook of `core.hooksPath` is named by its absolute path.
 */
export function gitFilePath(look: GitFilesLook, entry: string): string {
  return path.isAbsolute(entry) ? entry : path.join(look.dir, entry);
}

/** The file of `entry` in `look`, undefined when it has none. */
function fileOf(look: GitFilesLook, entry: string): GitFile | undefined {
  if (entry === "config") return look.config;
  if (HISTORY_FILES.includes(entry)) return look.historyFiles?.get(entry);
  if (INFO_FILES.includes(entry)) return look.infoFiles?.get(entry);
  if (isWorktreeConfig(entry)) return look.worktreeConfigs?.get(entry);
  if (isSharedConfig(entry)) return look.sharedConfigs?.get(entry);
  if (path.isAbsolute(entry)) {
    return look.hooksPath?.folder === path.dirname(entry)
      ? look.hooksPath.hooks.get(path.basename(entry))
      : undefined;
  }
  return look.hooks.get(entry.slice("hooks/".length));
}

/** Whether one git file (`config`, `hooks`, `hooks/<name>`) is the same in two looks. */
export function sameGitFile(a: GitFilesLook, b: GitFilesLook, entry: string): boolean {
  if (entry === "hooks") return a.hooksFolder === b.hooksFolder;
  if (entry === INFO) return a.infoFolder === b.infoFolder;
  return sameFile(fileOf(a, entry), fileOf(b, entry));
}

function sameFile(a: GitFile | undefined, b: GitFile | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind === "file" && b.kind === "file")
    return a.mode === b.mode && a.content.equals(b.content);
  if (a.kind === "link" && b.kind === "link") return a.target === b.target;
  return a.kind === "other" && b.kind === "other" && a.mode === b.mode;
}

/**
 * Puts the git files listed in `changed` back as `trusted` had them, each only while it still is
 * what `found` read (one changed again since is left alone). What stood there is kept in a new
 * folder of a random name under `keepUnder` (made fresh, so nothing planted in advance is
 * followed). The `hooks` folder itself, and anything that was not a file or a link, is only
 * reported; so is the `info` folder, but for a plain folder made again where one was taken away
 * and an emptied one taken away where there was none. Its files are put back only while it is a
 * plain folder or as `trusted` had it (never through a link planted since). Returns the entries
 * that read as `trusted` has them afterwards, and the folder.
 */
export function restoreGitFiles(
  trusted: GitFilesLook,
  found: GitFilesLook,
  changed: readonly string[],
  keepUnder: string,
): { restored: string[]; keptIn: string | undefined } {
  const now = lookAtGitFiles(trusted.dir, found.hooksPath?.folder);
  let keptIn: string | undefined;
  const keep = (entry: string): string => {
    if (keptIn === undefined) {
      mkdirSync(keepUnder, { recursive: true });
      keptIn = mkdtempSync(path.join(keepUnder, "git-files-"));
    }
    const saved = path.join(
      keptIn,
      isSharedConfig(entry)
        ? `shared${entry}`
        : path.isAbsolute(entry)
          ? `hooksPath/${path.basename(entry)}`
          : entry,
    );
    mkdirSync(path.dirname(saved), { recursive: true });
    return saved;
  };
  const attempted: string[] = [];
  const info = path.join(trusted.dir, INFO);
  const infoChanged = changed.includes(INFO) && sameGitFile(now, found, INFO);
  if (infoChanged && trusted.infoFolder === "folder" && now.infoFolder === "none") {
    try {
      mkdirSync(info); // made here, not planted: a link in its place fails it
      attempted.push(INFO);
    } catch {
      // its files are then not put back either
    }
  }
  const infoNow = describeFolder(info);
  const infoUsable = infoNow === "folder" || infoNow === trusted.infoFolder;
  for (const entry of changed) {
    if (entry === "hooks" || entry === INFO || !sameGitFile(now, found, entry)) continue;
    if (entry.startsWith(`${INFO}/`) && !infoUsable) continue;
    const was = fileOf(trusted, entry);
    const seen = fileOf(found, entry);
    if (was?.kind === "other") continue;
    const file = gitFilePath(trusted, entry);
    try {
      if (was?.kind === "file") {
        // A copy kept, then the trusted file renamed over it: git never finds none there.
        if (seen?.kind === "file") writeNew(keep(entry), seen.content, 0o600);
        else if (seen !== undefined) renameSync(file, keep(entry));
        writeExclusively(file, was.content, was.mode);
      } else {
        if (seen !== undefined) renameSync(file, keep(entry));
        if (was?.kind === "link") symlinkSync(was.target, file);
      }
      attempted.push(entry);
    } catch {
      // left as it is; the failure says what changed
    }
  }
  if (infoChanged && trusted.infoFolder === "none" && infoNow === "folder") {
    try {
      rmdirSync(info); // only when emptied above: a file left there is the agent's, reported
      attempted.push(INFO);
    } catch {
      // left as it is; the failure says what changed
    }
  }
  // Only what reads back as trusted counts as put back.
  const after = lookAtGitFiles(trusted.dir, found.hooksPath?.folder);
  return {
    restored: changed.filter(
      (entry) => attempted.includes(entry) && sameGitFile(after, trusted, entry),
    ),
    keptIn,
  };
}

/** Writes a new file, refusing one (or a link) already there. */
function writeNew(file: string, content: Buffer, mode: number): void {
  const fd = openSync(file, "wx", mode);
  try {
    writeAll(fd, content);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `file` through a temporary file of a random name that must not exist (a link planted
 * in its place is never followed) and a rename, so git never reads half of it.
 */
function writeExclusively(file: string, content: Buffer, mode: number): void {
  const temporary = `${file}.conductor-${randomBytes(8).toString("hex")}`;
  const fd = openSync(temporary, "wx", 0o600);
  try {
    writeAll(fd, content);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

/** Writes all of `content` (a write may take only part of it). */
function writeAll(fd: number, content: Buffer): void {
  for (let written = 0; written < content.length; )
    written += writeSync(fd, content, written, content.length - written);
}
