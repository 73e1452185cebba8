import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { literalPathspecs } from "./integrity.js";
import { runGit } from "./run-git.js";

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

/** One commit to replay, as `git log` printed it. */
interface CommitRecord extends CommitMetadata {
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
}

const FIELD = "%x00";
const RECORD = "%x1e";
const LOG_FORMAT = ["%H", "%P", "%T", "%an", "%ae", "%ad", "%cn", "%ce", "%cd", "%B"].join(FIELD);

/**
 * Replays the commits of `from..to` as {@link ReplayOptions} say, keeping authors, dates and
 * messages otherwise; commits whose tree, parents and metadata stay the same keep their ids.
 * Paths are taken out on a temporary index. Returns the new tip and how many commits changed.
 */
export async function replayCommits(
  cwd: string,
  options: ReplayOptions,
): Promise<{ tip: string; rewritten: number }> {
  const records = parseCommits(
    await runGit(cwd, [
      "log",
      "--reverse",
      "--topo-order",
      "--date=raw",
      `--format=${LOG_FORMAT}${RECORD}`,
      `${options.from}..${options.to}`,
    ]),
  );
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
        metadata === record;
      if (same) {
        mapped.set(record.commit, record.commit);
        continue;
      }
      const commit = (
        await runGit(cwd, ["commit-tree", tree, ...parents.flatMap((p) => ["-p", p]), "-F", "-"], {
          env: metadata.identity,
          input: metadata.message,
        })
      ).trim();
      mapped.set(record.commit, commit);
      rewritten++;
    }
  } finally {
    await trees?.remove();
  }
  return { tip: mapped.get(options.to) ?? options.to, rewritten };
}

/**
 * Makes trees with `paths` as `from` has them, on a temporary index in the git folder (removed
 * by `remove`).
 */
async function treesWithout(cwd: string, from: string, paths: readonly string[]) {
  const pathspecs = literalPathspecs(paths);
  const kept = await runGit(cwd, ["ls-tree", "-r", "-z", "--full-tree", from, "--", ...pathspecs]);
  const gitDir = (await runGit(cwd, ["rev-parse", "--path-format=absolute", "--git-dir"])).trim();
  const scratch = await mkdtemp(path.join(gitDir, "conductor-replay-"));
  const env = { GIT_INDEX_FILE: path.join(scratch, "index") };
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

function parseCommits(out: string): CommitRecord[] {
  const records: CommitRecord[] = [];
  for (const raw of out.split("\x1e")) {
    const text = raw.replace(/^\n/, "");
    if (text === "") continue;
    const [commit, parents, tree, an, ae, ad, cn, ce, cd, ...message] = text.split("\0");
    if (!commit || tree === undefined) continue;
    records.push({
      commit,
      parents: (parents ?? "").split(" ").filter(Boolean),
      tree,
      identity: {
        GIT_AUTHOR_NAME: an ?? "",
        GIT_AUTHOR_EMAIL: ae ?? "",
        GIT_AUTHOR_DATE: ad ?? "",
        GIT_COMMITTER_NAME: cn ?? "",
        GIT_COMMITTER_EMAIL: ce ?? "",
        GIT_COMMITTER_DATE: cd ?? "",
      },
      message: message.join("\0"),
    });
  }
  return records;
}
