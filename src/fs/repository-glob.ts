import { readdir, realpath, realpathSync } from "node:fs";
import path from "node:path";
import { escapePath, glob, isDynamicPattern } from "tinyglobby";
import { isInside } from "./is-inside.js";
import { realPlaceOf } from "./real-place.js";
import { targetKindOf } from "./regular-file.js";

/** What a pattern matches in the repository. */
export interface RepositoryMatches {
  /** Files the pattern matches whose real place is inside the repository, relative to the root. */
  files: string[];
  /**
   * Links the pattern reaches that lead out of the repository (relative to the root): a matched
   * file that is one, or a folder the crawl would have gone into. Their targets are never listed.
   */
  linksOut: { path: string; target: string }[];
}

/**
 * The files a `copy` or `workspaces.context` entry names: a glob's matches, or every file under a
 * folder named plainly (`config/local`), recursively. One function, so that "matches" means the
 * same when the config is checked and when files are copied.
 */
export async function matchRepositoryFiles(
  root: string,
  written: string,
): Promise<RepositoryMatches> {
  const pattern =
    !isDynamicPattern(written) && (await targetKindOf(path.join(root, written))) === "directory"
      ? `${escapePath(written.replace(/\/+$/, ""))}/**`
      : written;
  return globRepositoryFiles(root, pattern);
}

/**
 * Files of the repository at `root` that `pattern` matches: dotfiles included, git's and
 * conductor's own folders left out, symlinks followed while they stay inside the repository (a
 * linked `.env.local` is a file like any other). A link that leads out is reported in `linksOut`
 * and not followed: checking a config must not crawl whatever a link points at, and nothing out
 * there may be copied into a workspace.
 */
export async function globRepositoryFiles(
  root: string,
  pattern: string,
): Promise<RepositoryMatches> {
  const base = path.resolve(root);
  const realRoot = realpathSync.native(base);
  /** Real targets outside the repository → the link (absolute) that led there. */
  const outsideTargets = new Map<string, string>();
  const foldersOut: RepositoryMatches["linksOut"] = [];
  const fs = {
    // The crawler resolves every link it meets here, before it looks at what the link is.
    realpath: ((link: string, done: (error: Error | null, real?: string) => void) => {
      realpath(link, (error, real) => {
        if (!error && !isInside(realRoot, real)) outsideTargets.set(real, link);
        done(error, real);
      });
    }) as unknown as typeof realpath,
    // Every folder the crawl enters, the one it starts in included (a plain `linked/**` starts in
    // the link itself), is resolved first; one outside is reported and left unread.
    readdir: ((folder: string, options: object, done: (...args: unknown[]) => void) => {
      const place = realPlaceOf(realRoot, folder);
      if (place !== undefined && !place.inside) {
        const trimmed = folder.replace(/\/+$/, "");
        const link = outsideTargets.get(trimmed) ?? trimmed;
        foldersOut.push({ path: relativePosix(base, link), target: place.real });
        done(null, []);
        return;
      }
      readdir(folder, options, done as never);
    }) as unknown as typeof readdir,
  };
  const matched = await glob(pattern, {
    cwd: base,
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: true,
    ignore: [".git/**", "**/.git/**", ".conductor/**"],
    expandDirectories: false,
    fs,
  });
  const filesOut = new Map(
    [...outsideTargets].map(([target, link]) => [relativePosix(base, link), target]),
  );
  const files: string[] = [];
  const linksOut = [...foldersOut];
  for (const file of matched) {
    const target = filesOut.get(file);
    if (target === undefined) files.push(file);
    else linksOut.push({ path: file, target });
  }
  return {
    files: files.sort(),
    linksOut: linksOut.sort((a, b) => a.path.localeCompare(b.path)),
  };
}

function relativePosix(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join("/");
}
