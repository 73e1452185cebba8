import { readProcFile } from "./proc-file.js";

/**
 * A process's command line as `ps` shows it, cut to `limit` characters, for naming the process in
 * a message; undefined when it cannot be read (gone, another user's, no /proc).
 */
export function commandLineOf(pid: number | string, limit = 60): string | undefined {
  try {
    const words = readProcFile(`/proc/${pid}/cmdline`).split("\0").filter(Boolean);
    return words.length === 0 ? undefined : words.join(" ").slice(0, limit);
  } catch {
    return undefined;
  }
}
