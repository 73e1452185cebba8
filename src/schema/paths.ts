import path from "node:path";

/**
 * Why a path written in the config would leave the repository, or undefined when it stays inside.
 * Purely lexical (symlinks are checked where files are actually read, in the executor).
 */
export function repoPathProblem(written: string): string | undefined {
  if (written.includes("\0")) return "contains a NUL character";
  if (path.isAbsolute(written) || /^[A-Za-z]:[\\/]/.test(written) || written.startsWith("~")) {
    return "is absolute; write it relative to the repository root";
  }
  const normalized = path.posix.normalize(written.replaceAll("\\", "/"));
  if (normalized === ".." || normalized.startsWith("../")) {
    return "leaves the repository (..); paths must stay inside it";
  }
  if (normalized === "." || normalized === "")
    return "names the repository itself; name files inside it";
  if (normalized === ".git" || normalized.startsWith(".git/")) return "points into .git";
  return undefined;
}
