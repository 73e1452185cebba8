import { readProcFile } from "./proc-file.js";

/** Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, …; undefined when gone. */
export function statFields(pid: string): string[] | undefined {
  try {
    const stat = readProcFile(`/proc/${pid}/stat`);
    // The command name may contain spaces and parentheses; the fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}
