import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import { cacheRoot, cleanEntries, listEntries, repoFolderName } from "../../executor/seed/cache.js";
import { findRepositoryRoot } from "../../git/facts.js";
import { renderCacheEntries } from "../../review/cache.js";
import { formatSize } from "../../schema/size.js";

interface CacheOptions {
  all?: boolean;
  json?: boolean;
  key?: string;
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
      const entries = await listEntries(root, await reposOf(options));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      process.stdout.write(renderCacheEntries(root, entries));
    });
  command
    .command("clean")
    .description(
      "remove this repository's cache entries (and fills left by killed runs); workspaces keep their folders, except symlinked ones",
    )
    .option("--all", "every repository's entries")
    .option("--key <prefix>", "only the entry whose key starts with this")
    .action(async (options: CacheOptions) => {
      const root = cacheRoot(os.homedir());
      const { removed, bytes } = await cleanEntries(root, await reposOf(options), options.key);
      const what = removed.length === 1 ? "1 entry" : `${removed.length} entries`;
      process.stdout.write(`conductor: removed ${what} from ${root} (${formatSize(bytes)})\n`);
    });
  return command;
}

/** The repositories a command covers: this one (by folder name, as the cache names it), or all. */
async function reposOf(options: CacheOptions): Promise<string[] | undefined> {
  if (options.all) return undefined;
  const root = await findRepositoryRoot(process.cwd());
  return [repoFolderName(path.basename(root))];
}
