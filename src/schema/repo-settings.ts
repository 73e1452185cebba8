import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ConfigIssue } from "../errors.js";
import { ConfigError } from "../errors.js";
import { repoPathProblem } from "./paths.js";

/**
 * The settings a repository may already keep for the Conductor app, read as defaults under
 * conductor.yaml: `.conductor/settings.toml` (committed), `.conductor/settings.local.toml` (per
 * user, wins over it), the older `conductor.json` (ignored once settings.toml exists, as the app
 * does), and `.worktreeinclude` (gitignored-file globs; wins over `file_include_globs`).
 */

/** The repository settings files, in the order they are read (later ones win). */
export const SETTINGS_FILES = {
  legacy: "conductor.json",
  shared: ".conductor/settings.toml",
  local: ".conductor/settings.local.toml",
  include: ".worktreeinclude",
} as const;

/** How the run script of different workspaces may run side by side (the app's run script mode). */
export const RUN_MODES = ["concurrent", "nonconcurrent"] as const;
/** `concurrent` or `nonconcurrent`. */
export type RunMode = (typeof RUN_MODES)[number];

/** A value and the file (relative to the repository root) it came from. */
export interface Sourced<T> {
  value: T;
  file: string;
}

/** What the repository's own settings files say, each value with its file. */
export interface RepoSettings {
  setup?: Sourced<string>;
  run?: Sourced<string>;
  archive?: Sourced<string>;
  runMode?: Sourced<RunMode>;
  /** Gitignored-file globs copied into every workspace. */
  copy?: Sourced<string[]>;
  /** The settings files that exist, in reading order. */
  files: string[];
}

/** No repository settings at all. */
export const NO_REPO_SETTINGS: RepoSettings = { files: [] };

type Table = Record<string, unknown>;

/**
 * Reads every repository settings file that exists under `root`. Problems (bad TOML or JSON, a
 * value of the wrong type, a glob leaving the repository) are collected and thrown together as a
 * {@link ConfigError} naming the file, line and key.
 */
export async function readRepoSettings(root: string): Promise<RepoSettings> {
  const issues: ConfigIssue[] = [];
  const settings: RepoSettings = { files: [] };
  const [legacy, shared, local, include] = await Promise.all(
    Object.values(SETTINGS_FILES).map((file) => readText(path.join(root, file))),
  );
  // The app treats a repository with settings.toml as migrated and ignores its conductor.json.
  if (legacy !== undefined && shared === undefined) {
    settings.files.push(SETTINGS_FILES.legacy);
    applyLegacy(settings, legacy, issues);
  }
  for (const [file, text] of [
    [SETTINGS_FILES.shared, shared],
    [SETTINGS_FILES.local, local],
  ] as const) {
    if (text === undefined) continue;
    settings.files.push(file);
    await applyToml(settings, file, text, issues);
  }
  if (include !== undefined) {
    settings.files.push(SETTINGS_FILES.include);
    const globs = globLines(include, SETTINGS_FILES.include, issues);
    settings.copy = { value: globs, file: SETTINGS_FILES.include };
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return settings;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new ConfigError([
      {
        file,
        line: undefined,
        column: undefined,
        keyPath: "",
        message: `cannot be read (${code ?? String(error)})`,
      },
    ]);
  }
}

function applyLegacy(settings: RepoSettings, text: string, issues: ConfigIssue[]): void {
  const file = SETTINGS_FILES.legacy;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    issues.push(issueAt(file, "", `is not valid JSON: ${(error as Error).message}`));
    return;
  }
  if (!isTable(parsed)) {
    issues.push(issueAt(file, "", 'must be a JSON object such as {"scripts": {"setup": "…"}}'));
    return;
  }
  applyScripts(settings, file, parsed.scripts, "scripts", issues);
  applyRunMode(settings, file, parsed.runScriptMode, "runScriptMode", issues);
}

async function applyToml(
  settings: RepoSettings,
  file: string,
  text: string,
  issues: ConfigIssue[],
): Promise<void> {
  const { parse, TomlError } = await import("smol-toml");
  let parsed: Table;
  try {
    parsed = parse(text) as Table;
  } catch (error) {
    const located = error instanceof TomlError;
    const message = ((error as Error).message.split("\n")[0] ?? "").replace(
      /^Invalid TOML document: /,
      "",
    );
    issues.push({
      file,
      line: located ? error.line : undefined,
      column: located ? error.column : undefined,
      keyPath: "",
      message: `TOML syntax error: ${message}`,
    });
    return;
  }
  // Other keys (`$schema`, enterprise_data_privacy, …) are the app's business, not conductor's.
  applyScripts(settings, file, parsed.scripts, "scripts", issues);
  if (isTable(parsed.scripts))
    applyRunMode(settings, file, parsed.scripts.run_mode, "scripts.run_mode", issues);
  const globs = parsed.file_include_globs;
  if (globs === undefined) return;
  if (typeof globs !== "string") {
    issues.push(
      issueAt(file, "file_include_globs", 'must be a string with one glob per line ("""…""")'),
    );
  } else if (settings.copy?.file !== SETTINGS_FILES.include) {
    settings.copy = { value: globLines(globs, file, issues), file };
  }
}

function applyScripts(
  settings: RepoSettings,
  file: string,
  scripts: unknown,
  keyPath: string,
  issues: ConfigIssue[],
): void {
  if (scripts === undefined) return;
  if (!isTable(scripts)) {
    issues.push(issueAt(file, keyPath, "must be a table of scripts (setup, run, archive)"));
    return;
  }
  for (const name of ["setup", "run", "archive"] as const) {
    const value = scripts[name];
    if (value === undefined) continue;
    if (typeof value !== "string") {
      issues.push(issueAt(file, `${keyPath}.${name}`, "must be a string (a shell command)"));
    } else if (value.includes("\0")) {
      issues.push(issueAt(file, `${keyPath}.${name}`, "contains a NUL character; remove it"));
    } else if (value.trim() !== "") {
      // The app writes an empty string for a script nobody set; that is no script.
      settings[name] = { value, file };
    }
  }
}

function applyRunMode(
  settings: RepoSettings,
  file: string,
  value: unknown,
  keyPath: string,
  issues: ConfigIssue[],
): void {
  if (value === undefined) return;
  if (typeof value === "string" && (RUN_MODES as readonly string[]).includes(value)) {
    settings.runMode = { value: value as RunMode, file };
  } else {
    issues.push(issueAt(file, keyPath, `must be ${RUN_MODES.map((m) => `"${m}"`).join(" or ")}`));
  }
}

/**
 * Globs of a `.worktreeinclude` file or a `file_include_globs` string: one per line, blank lines
 * and `#` comments skipped, a leading `/` (anchored to the root, as in .gitignore) dropped:
 * conductor's globs are relative to the root already.
 */
function globLines(text: string, file: string, issues: ConfigIssue[]): string[] {
  const globs: string[] = [];
  const lineNumbers = file === SETTINGS_FILES.include;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const at = (message: string) =>
      issues.push({
        ...issueAt(file, lineNumbers ? "" : "file_include_globs", message),
        line: lineNumbers ? index + 1 : undefined,
        column: lineNumbers ? 1 : undefined,
      });
    if (line.startsWith("!")) {
      at(`"${line}": negated patterns are not supported; list only what to copy`);
      return;
    }
    const glob = line.replace(/^\/+/, "");
    const problem = repoPathProblem(glob);
    if (problem) at(`"${line}" ${problem}`);
    else globs.push(glob);
  });
  return globs;
}

function issueAt(file: string, keyPath: string, message: string): ConfigIssue {
  return { file, line: undefined, column: undefined, keyPath, message };
}

function isTable(value: unknown): value is Table {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
