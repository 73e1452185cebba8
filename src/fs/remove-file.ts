import { unlinkSync } from "node:fs";

/**
 * Removes `file` if it can, and says nothing when it cannot: for files of conductor's own whose
 * absence is what is wanted (gone already, or removed with their folder), where a failure to
 * remove must not hide the error being handled.
 */
export function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already, or its folder is
  }
}
