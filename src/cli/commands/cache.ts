import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import { OperationError, RepositoryError, UnsafeOperationError, UsageError } from "../../errors.js";
import { cacheRoot, listEntries, repoFolderName } from "../../executor/seed/cache.js";
import { cleanEntries, type KeptEntry } from "../../executor/seed/clean.js";
import { findRepositoryRoot } from "../../git/facts.js";
import { conductorCommand } from "../../hint/command.js";
import { shellCommand } from "../../hint/shell-quote.js";
import { shortKey } from "../../report/seed.js";
import { renderCacheEntries } from "../../review/cache.js";
import { formatSize } from "../../schema/size.js";

interface CacheOptions {
  all?: boolean;
  json?: boolean;
  key?: string;
  force?: boolean;
}

/** `conductor cache list|clean`: the folders `workspaces.seed` keeps per key. */
export function cacheCommand(): Command {
  const command = new Command("cache").description(
    "list or remove the seed cache (workspaces.seed folders kept per key in ~/.conductor/cache, or $CONDUCTOR_CACHE_DIR)",
  );
  command
    .command("list")
    .description(
      "list this repository's cache entries: key, size, folders, when made and last used",
    )
    .option("--all", "every repository's entries")
    .option("--json", "print the entries as JSON")
    .action(async (options: CacheOptions) => {
      const root = cacheRoot(os.homedir());
      const repos = await reposOf(options, "list");
      const entries = await readingCache(root, () => listEntries(root, repos));
      if (options.json) {
        // A damaged entry (no readable seed.json) keeps its key as null: JSON.stringify would
        // drop an undefined one, and a reader could not tell "damaged" from a format change.
        const shown = entries.map((entry) => ({ ...entry, manifest: entry.manifest ?? null }));
        process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
        return;
      }
      process.stdout.write(renderCacheEntries(root, entries));
    });
  command
    .command("clean")
    .description(
      "remove this repository's cache entries (and fills left by killed runs), except those a run is placing from now or workspaces link to (mode: symlink); workspaces keep their folders",
    )
    .option("--all", "every repository's entries")
    .option(
      "--key <prefix>",
      "only the entry whose key starts with this (as `cache list` shows it, … included)",
    )
    .option(
      "--force",
      "also remove entries that workspaces' folders link to (mode: symlink): those links then lead nowhere",
    )
    .action(async (options: CacheOptions) => {
      const root = cacheRoot(os.homedir());
      const prefix = options.key === undefined ? undefined : keyPrefix(options.key);
      const repos = await reposOf(options, "clean");
      const { removed, bytes, kept, unlinked } = await readingCache(root, () =>
        cleanEntries(root, repos, { keyPrefix: prefix, force: options.force === true }),
      );
      // A key that matched nothing is a typo or a stale copy: saying "removed 0 entries" with
      // success would let a script believe the entry is gone.
      if (prefix !== undefined && removed.length === 0 && kept.length === 0)
        throw new UsageError(
          `no cache entry ${options.all ? "" : "of this repository "}has a key starting with ${prefix} (in ${root})`,
          {
            hint: `\`${conductorCommand(["cache", "list", ...(options.all ? ["--all"] : [])])}\` lists the entries.`,
          },
        );
      const what = removed.length === 1 ? "1 entry" : `${removed.length} entries`;
      process.stdout.write(`conductor: removed ${what} from ${root} (${formatSize(bytes)})\n`);
      if (unlinked.length > 0)
        process.stderr.write(
          `conductor: warning: removed what these workspace folders link to; they lead nowhere until a run fills that key again:\n${unlinked.map((link) => `  ${link}\n`).join("")}`,
        );
      if (kept.length > 0) {
        const again = (force: boolean) =>
          conductorCommand([
            "cache",
            "clean",
            ...(options.all ? ["--all"] : []),
            ...(prefix === undefined ? [] : ["--key", prefix]),
            ...(force ? ["--force"] : []),
          ]);
        throw keptInUse(root, kept, again);
      }
    });
  return command;
}

/**
 * The entries a clean left because they are in use, each with why, and what to do: exit 1, as the
 * clean did not do all it was asked (a script must not take the disk as freed).
 */
function keptInUse(
  root: string,
  kept: readonly KeptEntry[],
  again: (force: boolean) => string,
): OperationError {
  const lines = kept.map((entry) => {
    const why = entry.users.map((user) =>
      user.unseen
        ? `process ${user.pid} of another machine or container marked it in use (${user.mark})`
        : `conductor process ${user.pid} is placing its folders into a workspace`,
    );
    if (entry.lock !== undefined)
      why.push(
        `another conductor holds its lock ${entry.lock} (filling the key anew, or cleaning it)`,
      );
    if (entry.links.length > 0)
      why.push(`workspace folders link to it (mode: symlink): ${entry.links.join(", ")}`);
    return `  ${entry.repo}/${shortKey(entry.key)}: ${why.join("; ")}`;
  });
  const users = kept.flatMap((entry) => entry.users);
  const unseen = users.filter((user) => user.unseen);
  const placing = users.length - unseen.length;
  const busy = placing + kept.filter((entry) => entry.lock !== undefined).length;
  const linked = kept.filter((entry) => entry.links.length > 0).length;
  const hint: string[] = [];
  if (busy > 0)
    hint.push(
      `Run \`${again(false)}\` again once ${busy === 1 ? "that conductor is" : "those conductors are"} done${placing > 0 ? " (placing takes seconds)" : ""}.`,
    );
  if (unseen.length > 0)
    hint.push(
      `A process conductor cannot see from here may be gone: if so, remove its mark (\`${shellCommand(["rm", "--", ...unseen.map((user) => user.mark)])}\`) and run \`${again(false)}\` again.`,
    );
  if (linked > 0)
    hint.push(
      `Archive those workspaces first, or run \`${again(true)}\` to remove ${linked === 1 ? "the entry" : "those entries"} anyway: their links then lead nowhere until a run fills the key again.`,
    );
  const what = kept.length === 1 ? "1 cache entry" : `${kept.length} cache entries`;
  const message = `kept ${what} in use, in ${root}:\n${lines.join("\n")}`;
  // Removing what workspaces link to is refused, like archiving unsaved work, until forced.
  return linked > 0
    ? new UnsafeOperationError(message, { hint: hint.join(" ") })
    : new OperationError(message, { hint: hint.join(" ") });
}

/**
 * The key prefix `--key` names: hex digits, as `cache list` prints a key (its `…` or `...` taken
 * off, so the key pastes as printed). An empty prefix would match, and remove, every entry.
 */
function keyPrefix(text: string): string {
  const prefix = text
    .trim()
    .replace(/(…|\.\.\.)$/, "")
    .toLowerCase();
  if (!/^[0-9a-f]{1,32}$/.test(prefix))
    throw new UsageError(`--key ${JSON.stringify(text)} is not a cache key`, {
      hint: `A key is hexadecimal digits (or their start), as \`${conductorCommand(["cache", "list"])}\` shows it.`,
    });
  return prefix;
}

/**
 * Runs `work` on the cache at `root`, a cache folder that cannot be read (a file on its path, no
 * permission) reported as such, naming the folder and how to point conductor elsewhere, instead of
 * as an internal error.
 */
async function readingCache<T>(root: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTDIR" && code !== "EACCES" && code !== "EPERM" && code !== "EROFS")
      throw error;
    throw new UsageError(`cannot use the seed cache ${root}: ${(error as Error).message}`, {
      hint: "Fix that folder, or set CONDUCTOR_CACHE_DIR to the seed cache's folder.",
    });
  }
}

/** The repositories a command covers: this one (by folder name, as the cache names it), or all. */
async function reposOf(
  options: CacheOptions,
  command: "list" | "clean",
): Promise<string[] | undefined> {
  if (options.all) return undefined;
  let root: string;
  try {
    root = await findRepositoryRoot(process.cwd());
  } catch (error) {
    if (!(error instanceof RepositoryError)) throw error;
    // The cache serves every repository: outside one, --all is what works. Cleaning them all is
    // the user's decision, so only listing gets a command to paste.
    throw new RepositoryError(error.message, {
      hint:
        command === "list"
          ? `Run it inside a repository, or list every repository's entries with \`${conductorCommand(["cache", "list", "--all"])}\`.`
          : "Run it inside the repository whose entries to remove, or pass --all to remove every repository's.",
    });
  }
  return [repoFolderName(path.basename(root))];
}
