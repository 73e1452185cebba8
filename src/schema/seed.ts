import path from "node:path";
import * as z from "zod";
import type { KeyPath } from "./locate.js";
import { repoPathProblem } from "./paths.js";

/**
 * `workspaces.seed`: folders (node_modules, .venv, build caches) made once per key and given to
 * every workspace. The written schema, its cross-field rules and its normalized shape live here,
 * apart from the rest of the config, because they are one concept.
 */

/** How a seeded folder reaches a workspace from the cache. */
export const SEED_MODES = ["clone", "hardlink", "symlink", "copy"] as const;
/** How a seeded folder reaches a workspace from the cache. */
export type SeedMode = (typeof SEED_MODES)[number];
/**
 * The default: a reflink clone where the filesystem supports it (btrfs, XFS, APFS), else a plain
 * copy. Either way every workspace's files are its own; hardlink and symlink share them.
 */
export const DEFAULT_SEED_MODE: SeedMode = "clone";

/**
 * Key files looked for when `key` is not written: the lockfiles of common package managers.
 * Those present in the workspace make the key; none present is an error (say what to hash).
 */
export const DEFAULT_SEED_KEY_FILES = [
  "package-lock.json",
  "npm-shrinkwrap.json",
  "pnpm-lock.yaml",
  "yarn.lock",
  "bun.lock",
  "bun.lockb",
  "uv.lock",
  "poetry.lock",
  "Pipfile.lock",
  "Cargo.lock",
  "go.sum",
  "Gemfile.lock",
  "composer.lock",
] as const;

const relativePath = z
  .string()
  .min(1, { error: "must not be empty" })
  .describe("A path relative to the repository root; it must stay inside the repository.");

const folder = z.union([
  relativePath.describe("A folder the seed script fills, e.g. node_modules."),
  z
    .strictObject({
      path: relativePath.describe("A folder the seed script fills, e.g. node_modules."),
      mode: z
        .enum(SEED_MODES, { error: `must be one of ${SEED_MODES.join(", ")}` })
        .optional()
        .describe(
          "clone (default: reflink copy-on-write where the filesystem supports it, else a copy), " +
            "hardlink (shares files with the cache: in-place writes reach it), symlink (the folder is the cache's) or copy.",
        ),
    })
    .describe("A folder with an explicit mode."),
]);

const seedObject = z
  .strictObject({
    folders: z
      .array(folder)
      .min(1, { error: "must list at least one folder" })
      .describe("Folders made once per key and given to every workspace."),
    key: z
      .array(relativePath)
      .min(1, { error: "must list at least one file" })
      .optional()
      .describe(
        "Files whose content decides the key (with the seed script, platform and Node ABI); default: the lockfiles present (package-lock.json, pnpm-lock.yaml, yarn.lock, uv.lock, …).",
      ),
    script: z
      .string()
      .min(1, { error: "must not be empty" })
      .optional()
      .describe(
        "Fills the folders, once per key, in a fresh checkout; default: scripts.setup, which seeded workspaces then skip. With a script of its own, setup still runs in every workspace (with CONDUCTOR_SEEDED=1).",
      ),
  })
  .describe("Folders made once per key and given to every workspace.");

/** Schema of `workspaces.seed` as written: a list of folders, or an object with folders, key and script. */
export const writtenSeedSchema = z
  .union([z.array(folder).min(1, { error: "must list at least one folder" }), seedObject])
  .describe(
    "Folders (node_modules, .venv, build caches) made once per key (a hash of lockfiles and the seed script) and given to every workspace from ~/.conductor/cache.",
  );

/** `workspaces.seed` as written. */
export type WrittenSeed = z.infer<typeof writtenSeedSchema>;

/** One seeded folder after normalization. */
export interface SeedFolder {
  /** Relative to the repository root, `/`-separated, without a trailing slash. */
  path: string;
  mode: SeedMode;
}

/** `workspaces.seed` after normalization. */
export interface SeedConfig {
  folders: SeedFolder[];
  /** Key files as written; undefined: the default lockfiles that exist. */
  key: string[] | undefined;
  /** The script that fills the folders; undefined: each workspace's setup script. */
  script: string | undefined;
}

/** Normalizes `workspaces.seed` (the list shorthand becomes `folders`). */
export function normalizeSeed(written: WrittenSeed | undefined): SeedConfig | undefined {
  if (written === undefined) return undefined;
  const object = Array.isArray(written) ? { folders: written } : written;
  return {
    folders: object.folders.map((entry) =>
      typeof entry === "string"
        ? { path: tidy(entry), mode: DEFAULT_SEED_MODE }
        : { path: tidy(entry.path), mode: entry.mode ?? DEFAULT_SEED_MODE },
    ),
    key: "key" in object ? object.key : undefined,
    script: "script" in object ? object.script : undefined,
  };
}

function tidy(written: string): string {
  return path.posix.normalize(written.replaceAll("\\", "/")).replace(/\/+$/, "");
}

/**
 * Paths of `workspaces.seed` that leave the repository, and folders that overlap (one inside
 * another would be placed twice).
 */
export function seedPathIssues(
  written: WrittenSeed | undefined,
): { keyPath: KeyPath; message: string }[] {
  if (written === undefined) return [];
  const issues: { keyPath: KeyPath; message: string }[] = [];
  const listed = Array.isArray(written);
  const folders = listed ? written : written.folders;
  const seen: { path: string; index: number }[] = [];
  folders.forEach((entry, index) => {
    const text = typeof entry === "string" ? entry : entry.path;
    const keyPath: KeyPath = [
      "workspaces",
      "seed",
      ...(listed ? [] : ["folders"]),
      index,
      ...(typeof entry === "string" ? [] : ["path"]),
    ];
    const problem = repoPathProblem(text);
    if (problem) {
      issues.push({ keyPath, message: `"${text}" ${problem}` });
      return;
    }
    const tidied = tidy(text);
    const other = seen.find(
      (earlier) =>
        earlier.path === tidied ||
        tidied.startsWith(`${earlier.path}/`) ||
        earlier.path.startsWith(`${tidied}/`),
    );
    if (other)
      issues.push({
        keyPath,
        message: `"${text}" overlaps folder ${other.index + 1} ("${other.path}"); list folders that do not contain each other`,
      });
    seen.push({ path: tidied, index });
  });
  if (!listed)
    written.key?.forEach((file, index) => {
      const problem = repoPathProblem(file);
      if (problem)
        issues.push({
          keyPath: ["workspaces", "seed", "key", index],
          message: `"${file}" ${problem}`,
        });
    });
  return issues;
}
