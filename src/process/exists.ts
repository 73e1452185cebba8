/**
 * Whether a process with this pid exists (signal 0 delivers nothing; EPERM means it exists but is
 * another user's). A pid can be reused, so this says "maybe still that process", never more.
 */
export function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
