import type { CacheEntry } from "../executor/seed/cache.js";
import { shortKey } from "../report/seed.js";
import { renderTable } from "../report/table.js";
import { formatSize } from "../schema/size.js";

/** `conductor cache list` as a table, with the cache's folder and total size under it. */
export function renderCacheEntries(root: string, entries: readonly CacheEntry[]): string {
  if (entries.length === 0) return `conductor: no cache entries in ${root}\n`;
  const rows = [
    ["REPOSITORY", "KEY", "SIZE", "FOLDERS", "KEY FILES", "MADE", "LAST USED"],
    ...entries.map((entry) => [
      entry.repo,
      shortKey(entry.key),
      formatSize(entry.bytes),
      entry.manifest?.folders
        .map((folder) => (folder.present ? folder.path : `${folder.path} (absent)`))
        .join(", ") ?? "?",
      entry.manifest?.keyFiles.join(", ") ?? "?",
      entry.manifest?.createdAt.slice(0, 16).replace("T", " ") ?? "?",
      entry.usedAt.toISOString().slice(0, 16).replace("T", " "),
    ]),
  ];
  const total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  return `${renderTable(rows)}\n${entries.length} ${entries.length === 1 ? "entry" : "entries"}, ${formatSize(total)} in ${root}\n`;
}
