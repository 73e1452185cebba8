import { mkdirSync, mkdtempSync, rmdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { removeFoldersOfGoneProcesses } from "./abandoned-folders.js";

/**
 * This process's private folder under `~/.conductor/tmp` (0700), for the files of its long-lived
 * helpers (the shell pool's requests, the reaper pool's pipes): made on first use, removed at
 * exit, folders of conductors that are gone cleared first. Never in /tmp: an agent's sandbox
 * (Codex's `workspace-write`) may write there, and a file it could change would hand its code or
 * its words to conductor's helpers outside the sandbox. Undefined when it cannot be made (HOME
 * unwritable): each helper then does without.
 */

let folder: string | undefined;

export function privateFolder(): string | undefined {
  if (folder !== undefined) return folder;
  const parent = path.join(os.homedir(), ".conductor", "tmp");
  let made: string;
  try {
    mkdirSync(parent, { recursive: true, mode: 0o700 });
    removeFoldersOfGoneProcesses(parent, /^shells-(\d+)-/);
    made = mkdtempSync(path.join(parent, `shells-${process.pid}-`));
  } catch {
    return undefined;
  }
  folder = made;
  process.once("exit", () => {
    rmSync(made, { recursive: true, force: true });
    // `~/.conductor/tmp` exists only for these folders, and an empty `~/.conductor` holds nothing:
    // whichever conductor leaves last removes them, so a command that only reads (plan,
    // validate) leaves the home folder as it was. A folder in use is not empty and stays.
    for (const dir of [parent, path.dirname(parent)]) {
      try {
        rmdirSync(dir);
      } catch {
        break;
      }
    }
  });
  return made;
}

/**
 * Forgets the folder when a file in it went away (a cleaner of old files removed it): the next
 * {@link privateFolder} makes a new one.
 */
export function privateFolderGone(file: string): void {
  if (folder !== undefined && file.startsWith(folder + path.sep)) forgetPrivateFolder();
}

/** Forgets the folder, found gone: the next {@link privateFolder} makes a new one. */
function forgetPrivateFolder(): void {
  folder = undefined;
}

/**
 * `make(folder)` for files in the private folder, once more in a new folder when it fails because
 * the folder went away (a cleaner of old files removed it). Throws when no folder can be made.
 */
export function inPrivateFolder<T>(make: (folder: string) => T): T {
  const attempt = () => {
    const made = privateFolder();
    if (made === undefined) throw new Error("~/.conductor/tmp cannot be made");
    return make(made);
  };
  try {
    return attempt();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    forgetPrivateFolder();
    return attempt();
  }
}
