import { readdirSync } from "node:fs";
import { readProcFile } from "./proc-file.js";

/**
 * Each live process other than conductor itself whose raw environment (`NAME=value` pairs
 * joined by NUL) contains `marker`, with its pid. Linux only (reads /proc); elsewhere, none.
 */
function* environmentsHolding(marker: string): Generator<{ pid: number; environ: string }> {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: string;
    try {
      environ = readProcFile(`/proc/${entry}/environ`);
    } catch {
      continue; // gone meanwhile, or another user's
    }
    if (environ.includes(marker)) yield { pid: Number(entry), environ };
  }
}

/**
 * The environments of live processes whose environment holds `marker` (`NAME=value` or `NAME=`
 * for any value), other than conductor's own, as maps of their variables. Linux only (reads
 * /proc); elsewhere, none.
 */
export function liveEnvironments(marker: string): Map<string, string>[] {
  const found: Map<string, string>[] = [];
  for (const { environ } of environmentsHolding(marker)) {
    const variables = new Map<string, string>();
    for (const pair of environ.split("\0")) {
      const at = pair.indexOf("=");
      if (at > 0) variables.set(pair.slice(0, at), pair.slice(at + 1));
    }
    found.push(variables);
  }
  return found;
}
