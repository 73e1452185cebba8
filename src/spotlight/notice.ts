import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { conductorCommand } from "../hint/command.js";
import { markerPathsIn, type SpotlightMarker } from "./marker.js";

/**
 * The line every conductor command prints while Spotlight is on (also after the conductor that
 * started it was killed), or undefined. File reads only, no git: it runs before every command.
 */
export function spotlightNotice(cwd: string): string | undefined {
  const common = commonGitDir(cwd);
  if (common === undefined) return undefined;
  let marker: SpotlightMarker;
  try {
    marker = JSON.parse(readFileSync(markerPathsIn(common).marker, "utf8")) as SpotlightMarker;
  } catch {
    return undefined;
  }
  const off = conductorCommand(["spotlight", "--off"]);
  const interrupted =
    marker.pending === undefined
      ? ""
      : ` A change was cut off half way; \`${conductorCommand(["spotlight", marker.workspace, "--run", marker.runId])}\` finishes it.`;
  return `conductor: Spotlight is on: the main checkout shows ${marker.workspace}'s changes (since ${marker.startedAt}); \`${off}\` restores it.${interrupted}`;
}

/** The common git directory of the repository `cwd` is in, found by walking up; no git call. */
function commonGitDir(cwd: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const dotGit = path.join(dir, ".git");
    try {
      const stats = statSync(dotGit);
      if (stats.isDirectory()) return dotGit;
      // A worktree: `.git` names its git directory, whose `commondir` names the shared one.
      const gitDir = path.resolve(
        dir,
        readFileSync(dotGit, "utf8")
          .replace(/^gitdir:\s*/, "")
          .trim(),
      );
      const common = readFileSync(path.join(gitDir, "commondir"), "utf8").trim();
      return path.resolve(gitDir, common);
    } catch {
      // not here, or unreadable: look further up
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}
