import { lstatSync } from "node:fs";

/** Whether something (a link included, followed or not, even a dangling one) is at `file`. */
export function entryExists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
}
