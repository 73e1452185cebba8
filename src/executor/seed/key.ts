import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { canonicalJson } from "../../planner/hash.js";
import { DEFAULT_SEED_KEY_FILES, type SeedConfig } from "../../schema/seed.js";

/** Version of what goes into a key; bump it when the cache's layout or meaning changes. */
const KEY_FORMAT = 1;

/** A seed key and what it was made of. */
export interface SeedKey {
  /** 32 hex digits: the name of the cache entry. */
  key: string;
  /** Key files found in the workspace (relative paths), in the order hashed. */
  files: string[];
}

/** Why no key could be made: none of the key files exists in the workspace. */
export class NoKeyFilesError extends Error {
  constructor(readonly looked: readonly string[]) {
    super(
      `none of the seed's key files exists in the workspace (looked for ${looked.join(", ")}); list the files whose content decides the seeded folders in workspaces.seed.key`,
    );
  }
}

/**
 * The key of a workspace's seeded folders: the content of its key files, the seed script, the
 * folder list, and the platform and Node.js ABI. Native addons in node_modules (and wheels in a
 * .venv) are built for one OS, CPU and Node ABI (`process.versions.modules`), so a cache made
 * under another one must not be reused; the Node version the seed script runs with is assumed to
 * be conductor's own (the usual case; put `.nvmrc` among the key files when it is not).
 */
export async function seedKey(
  worktree: string,
  seed: SeedConfig,
  script: string,
): Promise<SeedKey> {
  const candidates = seed.key ?? [...DEFAULT_SEED_KEY_FILES];
  const files: [string, string | null][] = [];
  for (const file of candidates) {
    const digest = await fileDigest(path.join(worktree, file));
    // A listed file that is absent is part of the key (adding it later changes the key); an
    // absent default lockfile is just another package manager's.
    if (digest !== null || seed.key !== undefined) files.push([file, digest]);
  }
  if (files.every(([, digest]) => digest === null)) throw new NoKeyFilesError(candidates);
  const key = createHash("sha256")
    .update(
      canonicalJson({
        format: KEY_FORMAT,
        files,
        script,
        folders: seed.folders.map((folder) => folder.path).sort(),
        // Entries linked to by symlink mode are never evicted (see populate.ts): other modes,
        // which drop an entry written in place, get entries of their own.
        ...(seed.folders.some((folder) => folder.mode === "symlink") ? { symlinked: true } : {}),
        platform: `${process.platform}-${process.arch}`,
        nodeAbi: process.versions.modules,
      }),
    )
    .digest("hex")
    .slice(0, 32);
  return { key, files: files.filter(([, digest]) => digest !== null).map(([file]) => file) };
}

async function fileDigest(file: string): Promise<string | null> {
  try {
    return createHash("sha256")
      .update(await readFile(file))
      .digest("hex");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}
