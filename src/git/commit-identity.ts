import { runGitScript } from "./run-git.js";

/** Who conductor's commits are by: the author and committer git gives in the repository. */
export interface CommitIdentity {
  authorName: string;
  authorEmail: string;
  committerName: string;
  committerEmail: string;
}

/** The identity of conductor's commits where git has none (no user.name, no usable e-mail). */
export const NEUTRAL_IDENTITY: CommitIdentity = {
  authorName: "conductor",
  authorEmail: "conductor@localhost",
  committerName: "conductor",
  committerEmail: "conductor@localhost",
};

/**
 * Both identities as `git var` gives them (from the environment, `user.*`, `author.*` and
 * `committer.*`, as `git commit` reads them); it fails where git has none, as the commit would.
 */
const IDENTITY_SCRIPT = `author=$(git var GIT_AUTHOR_IDENT) || exit
committer=$(git var GIT_COMMITTER_IDENT) || exit
printf '%s\\n%s' "$author" "$committer"
`;

/** What git says when it has no identity to commit under. */
const NO_IDENTITY =
  /Please tell me who you are|identity unknown|unable to auto-detect email address|empty ident name/;

/** `Name <e-mail> <seconds> <zone>`, as `git var` prints an identity. */
const IDENT = /^(.*) <([^<>]*)> \d+ [+-]\d{4}$/;

/**
 * The identity conductor commits under for a whole session, asked once in the main checkout when
 * it starts. Asked at each commit instead, it would be whatever the repository's config says
 * then, and a check script (the agent's code, not held to the git config, which honest checks
 * write) could set it, to a secret of the workspace's env file for instance. Where git has no
 * identity, {@link NEUTRAL_IDENTITY}.
 */
export async function askCommitIdentity(root: string): Promise<CommitIdentity> {
  let out: string;
  try {
    out = await runGitScript(root, IDENTITY_SCRIPT, []);
  } catch (error) {
    if (NO_IDENTITY.test((error as Error).message)) return NEUTRAL_IDENTITY;
    throw error;
  }
  const [author, committer] = out.split("\n").map((line) => IDENT.exec(line));
  if (!author || !committer) throw new Error(`unexpected output of git var: ${out.slice(0, 200)}`);
  return {
    authorName: author[1] ?? "",
    authorEmail: author[2] ?? "",
    committerName: committer[1] ?? "",
    committerEmail: committer[2] ?? "",
  };
}

/**
 * `identity` with `redact` applied to each of its words: the user's own config could hold a
 * secret the run learns later (an env file copied into the workspace), and none reaches a commit.
 */
export function redactedIdentity(
  identity: CommitIdentity,
  redact: (text: string) => string,
): CommitIdentity {
  return {
    authorName: redact(identity.authorName),
    authorEmail: redact(identity.authorEmail),
    committerName: redact(identity.committerName),
    committerEmail: redact(identity.committerEmail),
  };
}
