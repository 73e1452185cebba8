import { type CommitMetadata, readCommits } from "../git/commit-replay.js";
import { readObjects } from "../git/committed-blobs.js";
import type { CommitGuard } from "../secrets/known-secrets.js";
import { namesOf } from "./secret-files.js";

/**
 * Commits whose own words hold a secret the run knows: on a pushed branch a commit's message,
 * author and committer are as public as its files, and so is anything else its object holds (a
 * signature, headers of its own that `git hash-object --literally` can write). Such commits are
 * made again from their message and identity as git shows them, each secret replaced by
 * `[redacted]`; what they changed stays as it is.
 */

/** Commits of a range whose words hold a secret, and what held those secrets. */
export interface SecretWordsFound {
  commits: ReadonlySet<string>;
  /** `API_TOKEN from .env.local`; never the values. */
  names: string[];
}

/**
 * The commits of `from..to` whose message or identity as git shows them, or whose object as
 * stored, holds a secret `guard` bars from commits. Two git processes, however many commits.
 */
export async function commitsWithSecretWords(
  cwd: string,
  range: { from: string; to: string },
  guard: CommitGuard,
): Promise<SecretWordsFound> {
  const { redactor } = guard;
  const commits = new Set<string>();
  const secrets = new Set<string>();
  const look = (commit: string, texts: readonly string[]) => {
    for (const text of texts) {
      const found = redactor.found(text);
      if (found.length === 0) continue;
      commits.add(commit);
      for (const secret of found) secrets.add(secret);
    }
  };
  if (!redactor.active) return { commits, names: [] };
  const records = await readCommits(cwd, range.from, range.to);
  for (const record of records) {
    look(record.commit, [record.message, ...Object.values(record.identity)]);
  }
  await readObjects(
    cwd,
    records.map((record) => record.commit),
    (commit, _type, content) => {
      look(commit, [content.toString("utf8"), content.toString("latin1")]);
    },
  );
  return { commits, names: namesOf([...secrets], guard) };
}

/** For `replayCommits`: `commit`'s message and identity with every secret taken out. */
export function withoutSecrets(guard: CommitGuard): (commit: CommitMetadata) => CommitMetadata {
  // The redactor gives back an equal string where there is nothing to take out.
  const clean = (text: string) => guard.redactor.redact(text);
  return (commit) => {
    const message = clean(commit.message);
    const identity = Object.fromEntries(
      Object.entries(commit.identity).map(([name, value]) => [name, clean(value)]),
    );
    const same =
      message === commit.message &&
      Object.entries(identity).every(([name, value]) => value === commit.identity[name]);
    return same ? commit : { message, identity };
  };
}
