import type { FoundWorkspace } from "../executor/find-workspace.js";
import { resolveCommit } from "../git/facts.js";
import { isAncestor } from "../git/integrity.js";
import type { GhRun } from "../review/github.js";
import {
  findPullRequest,
  type PullRequestLookup,
  pullRequestSelector,
} from "../review/github-pr.js";

/**
 * The workspace's pull request. Branch names repeat across runs (`conductor/{{task}}`), so a
 * merged or closed one counts only when its head is the branch's head or an ancestor of it;
 * an older one of the same name is no pull request of this work.
 */
export async function workspacePullRequest(
  gh: string,
  found: FoundWorkspace,
  head: string | undefined,
  run: GhRun,
): Promise<PullRequestLookup> {
  const lookup = await findPullRequest(gh, pullRequestSelector(found.workspace), run);
  if (lookup.found !== true || lookup.pr.state === "OPEN") return lookup;
  const root = found.run.plan.repo.root;
  const oid = lookup.pr.headRefOid;
  if (head === undefined || oid === "") return { found: false };
  if (oid === head) return lookup;
  const known = (await resolveCommit(root, oid)) !== undefined;
  return known && (await isAncestor(root, oid, head)) ? lookup : { found: false };
}
