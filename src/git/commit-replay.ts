import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { literalPathspecs } from "./integrity.js";
import { runGit, storedHistory } from "./run-git.js";

/**
 * Rewriting commits an agent made, with plumbing only (no checkout, HEAD or ref is touched): the
 * way conductor takes out of them what must never reach a branch.
 */

/** What a commit says about itself beside its tree and parents. */
export interface CommitMetadata {
  /** The message, as `%B` prints it. */
  message: string;
  /** `GIT_AUTHOR_NAME`, `GIT_AUTHOR_EMAIL`, `GIT_AUTHOR_DATE` and the committer's three. */
  identity: Readonly<Record<string, string>>;
}

/** A commit as `git log` shows it: its id, parents, tree and metadata. */
export interface CommitRecord extends CommitMetadata {
  commit: string;
  parents: string[];
  tree: string;
}

/** What to change in the commits of `from..to` (their order and merges are kept). */
export interface ReplayOptions {
  from: string;
  to: string;
  /** Paths put back as they are in `from` (absent there: removed) in every commit. */
  paths?: readonly string[];
  /** The message and identity each commit is to have (the same object: unchanged). */
  metadata?: (commit: CommitMetadata) => CommitMetadata;
  /**
   * Commits made again even when nothing above changes them: made from what git shows of them,
   * they lose what it does not (a signature, headers of their own).
   */
  remake?: ReadonlySet<string>;
}

/**
 * The fields of a commit as {@link readCommits} asks for them, joined by NUL, with `-z` ending
 * each commit with one: none of them can hold a NUL (git shows a message up to its first), so
 * the output splits exactly, whatever a message holds.
 */
const LOG_FIELDS = ["%H %P", "%T", "%an", "%ae", "%ad", "%cn", "%ce", "%cd", "%B"];

const OBJECT_ID = /^[0-9a-f]{40,64}$/;

/**
 * The commits of `from..to`, parents before children, as git shows them: UTF-8, without the
 * mailmap's names or signature checks that a config could ask for.
 */
export async function readCommits(cwd: string, from: string, to: string): Promise<CommitRecord[]> {
  const out = await runGit(
    cwd,
    [
      "-c",
      "i18n.logOutputEncoding=UTF-8",
      "log",
      "-z",
      "--no-show-signature",
      "--no-mailmap",
      "--reverse",
      "--topo-order",
      "--date=raw",
      `--format=${LOG_FIELDS.join("%x00")}`,
      `${from}..${to}`,
    ],
    { env: storedHistory({ allCommits: true }) },
  );
  const fields = out.split("\0");
  const records: CommitRecord[] = [];
  for (let at = 0; at + LOG_FIELDS.length <= fields.length; at += LOG_FIELDS.length) {
    const [ids = "", tree = "", an, ae, ad, cn, ce, cd, message = ""] = fields.slice(
      at,
      at + LOG_FIELDS.length,
    );
    const [commit = "", ...parents] = ids.split(" ").filter(Boolean);
    if (![commit, tree, ...parents].every((id) => OBJECT_ID.test(id))) {
      throw new Error(`git log printed what is not a commit of ${from}..${to}`);
    }
    records.push({
      commit,
      parents,
      tree,
      identity: {
        GIT_AUTHOR_NAME: an ?? "",
        GIT_AUTHOR_EMAIL: ae ?? "",
        GIT_AUTHOR_DATE: ad ?? "",
        GIT_COMMITTER_NAME: cn ?? "",
        GIT_COMMITTER_EMAIL: ce ?? "",
        GIT_COMMITTER_DATE: cd ?? "",
      },
      message,
    });
  }
  return records;
}

/**
 * Replays the commits of `from..to` as {@link ReplayOptions} say, keeping authors, dates and
 * messages otherwise; commits whose tree, parents and metadata stay the same keep their ids.
 * Paths are taken out on a temporary index. Returns the new tip and how many commits changed.
 */
export async function replayCommits(
  cwd: string,
  options: ReplayOptions,
): Promise<{ tip: string; rewritten: number }> {
  const records = await readCommits(cwd, options.from, options.to);
  const paths = options.paths ?? [];
  const trees = paths.length === 0 ? undefined : await treesWithout(cwd, options.from, paths);
  const mapped = new Map<string, string>();
  let rewritten = 0;
  try {
    for (const record of records) {
      const tree = trees === undefined ? record.tree : await trees.of(record.tree);
      const parents = record.parents.map((parent) => mapped.get(parent) ?? parent);
      const metadata = options.metadata?.(record) ?? record;
      const same =
        tree === record.tree &&
        parents.every((parent, i) => parent === record.parents[i]) &&
        metadata === record &&
        !options.remake?.has(record.commit);
      if (same) {
        mapped.set(record.commit, record.commit);
        continue;
      }
      // The message is as git showed it, in UTF-8, whatever i18n.commitEncoding says.
      const parentArgs = parents.flatMap((p) => ["-p", p]);
      const args = ["-c", "i18n.commitEncoding=UTF-8", "commit-tree", tree, ...parentArgs];
      const commit = (
        await runGit(cwd, [...args, "-F", "-"], {
          env: { ...storedHistory(), ...metadata.identity },
          input: metadata.message,
        })
      ).trim();
      mapped.set(record.commit, commit);
      rewritten++;
    }
  } finally {
    await trees?.remove();
  }
  const tip = records.length === 0 ? options.to : mapped.get(options.to);
  if (tip === undefined) throw new Error(`${options.to} was not among the commits replayed`);
  return { tip, rewritten };
}

/**
 * Makes trees with `paths` as `from` has them, on a temporary index in the git folder (removed
 * by `remove`).
 */
async function treesWithout(cwd: string, from: string, paths: readonly string[]) {
  const pathspecs = literalPathspecs(paths);
  const kept = await runGit(cwd, ["ls-tree", "-r", "-z", "--full-tree", from, "--", ...pathspecs], {
    env: storedHistory(),
  });
  const gitDir = (await runGit(cwd, ["rev-parse", "--path-format=absolute", "--git-dir"])).trim();
  const scratch = await mkdtemp(path.join(gitDir, "conductor-replay-"));
  const env = { ...storedHistory(), GIT_INDEX_FILE: path.join(scratch, "index") };
  return {
    async of(tree: string): Promise<string> {
      await runGit(cwd, ["read-tree", tree], { env });
      await runGit(
        cwd,
        ["rm", "--cached", "-r", "-f", "-q", "--ignore-unmatch", "--", ...pathspecs],
        { env },
      );
      if (kept !== "")
        await runGit(cwd, ["update-index", "-z", "--index-info"], { env, input: kept });
      return (await runGit(cwd, ["write-tree"], { env })).trim();
    },
    remove: () => rm(scratch, { recursive: true, force: true }),
  };
}
