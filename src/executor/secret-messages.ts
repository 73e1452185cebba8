import type { CommitMetadata } from "../git/commit-replay.js";
import type { CommitGuard } from "../secrets/known-secrets.js";
import { namesOf } from "./secret-files.js";

/**
 * Commit messages and identities the agent wrote with a secret the run knows in them: on a pushed
 * branch they are as public as its files. A rewrite gives those commits the same words with each
 * secret replaced by `[redacted]`; what they changed stays as it is.
 */
export interface SecretWords {
  /** For {@link replayCommits}: the commit's metadata with secrets taken out (itself when none). */
  metadata: (commit: CommitMetadata) => CommitMetadata;
  /** What held the secrets found so far (`API_TOKEN from .env.local`); never the values. */
  names(): string[];
  /** How many commits held one so far. */
  commits(): number;
}

/** A {@link SecretWords} for the secrets `guard` bars from commits. */
export function secretWords(guard: CommitGuard): SecretWords {
  const found = new Set<string>();
  let commits = 0;
  const clean = (text: string): string => {
    const secrets = guard.redactor.found(text);
    for (const secret of secrets) found.add(secret);
    return secrets.length === 0 ? text : guard.redactor.redact(text);
  };
  return {
    metadata(commit) {
      const message = clean(commit.message);
      const identity = Object.fromEntries(
        Object.entries(commit.identity).map(([name, value]) => [name, clean(value)]),
      );
      const changed =
        message !== commit.message ||
        Object.entries(identity).some(([name, value]) => value !== commit.identity[name]);
      if (!changed) return commit;
      commits++;
      return { message, identity };
    },
    names() {
      const names = namesOf([...found], guard);
      return names.length === 0 ? ["a known secret"] : names;
    },
    commits: () => commits,
  };
}
