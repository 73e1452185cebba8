import { UnsafeOperationError, UsageError } from "../errors.js";
import type { FoundWorkspace } from "../executor/find-workspace.js";
import { branchInUse, howToEnd } from "../git/branch-in-use.js";
import { resolveCommit } from "../git/facts.js";
import { IgnoredFilesInTheWayError } from "../git/in-the-way.js";
import { isAncestor } from "../git/integrity.js";
import { commitTree, moveBranch, switchCheckoutTree, trackedChanges } from "../git/land.js";
import { mergeTree, treeOf } from "../git/merge-tree.js";
import { git, gitMessage, listWorktrees } from "../git/worktree.js";
import { checkoutLinkChanges } from "../git/worktree-link.js";
import { shellCommand } from "../hint/shell-quote.js";
import type { MergeMethod } from "../schema/config.js";
import { headToLand } from "./head-to-land.js";

/** What landing one workspace did. */
export interface LandResult {
  name: string;
  method: MergeMethod;
  /** The base branch. */
  base: string;
  /** Its commit before and after. */
  from: string;
  to: string;
  /** The checkout that has the base branch checked out, updated to the new commit. */
  updatedCheckout: string | undefined;
}

/**
 * Lands a workspace's branch on the base branch, in git's object store: a fast-forward, a merge
 * commit (`git merge-tree --write-tree` then `git commit-tree`) or one squashed commit that
 * keeps the `Conductor-*` trailers. The branch moves with a compare-and-swap `update-ref`, so a
 * concurrent move is refused, never overwritten. No checkout's files change, unless the base
 * branch is checked out somewhere: then that checkout must be clean and is brought along
 * (`read-tree -m -u`); a dirty one, or one with an ignored file where the merge puts a file,
 * refuses the merge with nothing changed. `checkedHead`: the branch head the merge's checks
 * looked at; a branch that moved since is refused.
 */
export async function landWorkspace(
  found: FoundWorkspace,
  method: MergeMethod,
  checkedHead?: string,
): Promise<LandResult> {
  const { workspace, run } = found;
  const root = run.plan.repo.root;
  const base = run.plan.base.ref;
  const from = await resolveCommit(root, `refs/heads/${base}`);
  if (from === undefined) {
    throw new UsageError(
      `the base ${base} of run ${run.runId} is not a local branch; conductor merge lands work on a branch`,
    );
  }
  const head = await headToLand(found, checkedHead);
  if (await isAncestor(root, head, from)) {
    throw new UnsafeOperationError(
      `${workspace.name}: ${workspace.branch} is already in ${base}; nothing to merge`,
    );
  }
  // The rebase (or bisect) would set the base back where it started when it ends.
  const busy = await branchInUse(root, base);
  if (busy !== undefined) {
    throw new UnsafeOperationError(
      `${base} is being ${busy.what} in ${busy.path}; nothing was merged`,
      {
        hint: `First ${howToEnd(busy)}, then merge again.`,
      },
    );
  }
  const checkout = (await listWorktrees(root)).find(
    (entry) => entry.branch === base && !entry.prunable,
  );
  if (checkout !== undefined) {
    // git reads the config of the repository the checkout's link names: an agent's, if changed.
    const relinked = await checkoutLinkChanges(root, checkout.path);
    if (relinked.length > 0) {
      throw new UnsafeOperationError(
        `${base} is checked out in ${checkout.path}, whose link to the repository is not as git made it (${relinked.join("; ")}); nothing was merged`,
        {
          hint: `Look at what is there; \`${shellCommand(["git", "-C", root, "worktree", "repair", checkout.path])}\` puts the link back (a .git folder put there has to be moved away first). Then merge again.`,
        },
      );
    }
    const changed = await trackedChanges(checkout.path);
    if (changed.length > 0) {
      throw new UnsafeOperationError(
        `${base} is checked out in ${checkout.path} with uncommitted changes (${changed.slice(0, 5).join(", ")}); nothing was merged`,
        {
          hint: `Commit or stash them there (${shellCommand(["git", "-C", checkout.path, "stash"])}), or check out another branch there, then merge again.`,
        },
      );
    }
  }
  const to = await newBaseCommit(found, method, from, head);
  if (checkout !== undefined) {
    try {
      await switchCheckoutTree(checkout.path, from, to);
    } catch (error) {
      if (error instanceof IgnoredFilesInTheWayError) {
        throw new UnsafeOperationError(
          `merging ${workspace.name} would overwrite ignored files of ${checkout.path}, where ${base} is checked out: ${error.files.join(", ")}; nothing was merged`,
          {
            hint: `git would replace them without asking. Move them out of the way in ${checkout.path} (or check out another branch there), then merge again.`,
          },
        );
      }
      throw new UnsafeOperationError(
        `${base} is checked out in ${checkout.path} and git would not update its files (${gitMessage(error)}); nothing was merged`,
        { hint: `Move the files git names out of the way in ${checkout.path}, then merge again.` },
      );
    }
  }
  try {
    await moveBranch(root, base, to, from, `conductor merge ${workspace.name} (${method})`);
  } catch (error) {
    // Someone moved the base in between: put the checkout's files back and refuse.
    if (checkout !== undefined) await switchCheckoutTree(checkout.path, to, from).catch(() => {});
    throw new UnsafeOperationError(
      `${base} moved while ${workspace.name} was being merged; nothing was merged`,
      { hint: "Run the merge again.", cause: error },
    );
  }
  return { name: workspace.name, method, base, from, to, updatedCheckout: checkout?.path };
}

/** The commit the base branch moves to. */
async function newBaseCommit(
  found: FoundWorkspace,
  method: MergeMethod,
  from: string,
  head: string,
): Promise<string> {
  const { workspace, run } = found;
  const root = run.plan.repo.root;
  const base = run.plan.base.ref;
  if (method === "ff") {
    if (await isAncestor(root, from, head)) return head;
    throw new UnsafeOperationError(
      `${workspace.name}: ${base} cannot fast-forward to ${workspace.branch}: ${base} has commits the branch lacks; nothing was merged`,
      { hint: "Use --method merge (a merge commit) or --method squash." },
    );
  }
  const merged = await mergeTree(root, from, head);
  if (!merged.clean) {
    throw new UnsafeOperationError(
      `${workspace.name} conflicts with ${base} in ${merged.conflicts.join(", ")}; nothing was merged`,
      {
        hint: `Resolve it on the branch first: merge ${base} into ${workspace.branch} in ${workspace.path} and commit, then merge again.`,
      },
    );
  }
  if (merged.tree === (await treeOf(root, from))) {
    // A squash merge leaves the branch's commits out of the base's history, yet their changes
    // are in it: merging again would only add an empty commit.
    throw new UnsafeOperationError(
      `${workspace.name}: the changes of ${workspace.branch} are already in ${base} (merged before, e.g. squashed); nothing to merge`,
    );
  }
  if (method === "merge") {
    const message = `Merge branch '${workspace.branch}' into ${base}\n\nconductor workspace ${workspace.name} of run ${run.runId}\n`;
    return commitTree(root, merged.tree, [from, head], message);
  }
  return commitTree(root, merged.tree, [from], await squashMessage(found, from, head));
}

/**
 * The squashed commit's message: the newest commit's subject, the squashed commits listed, and
 * one value per `Conductor-*` trailer key, the newest commit's: a failed try fixed by a
 * follow-up must not leave `Conductor-Check: failed` beside `passed` in one commit.
 */
async function squashMessage(found: FoundWorkspace, from: string, head: string): Promise<string> {
  const root = found.run.plan.repo.root;
  const log = await git(root, [
    "log",
    "--format=%s%x00%(trailers:only,unfold)%x01",
    `${from}..${head}`,
  ]);
  const subjects: string[] = [];
  const trailers = new Map<string, string>();
  for (const record of log.split("\x01")) {
    const [subject, block = ""] = record.replace(/^\n/, "").split("\0");
    if (subject === undefined || subject === "") continue;
    subjects.push(subject);
    for (const line of block.split("\n")) {
      const key = /^(Conductor-[A-Za-z-]+): /.exec(line)?.[1];
      // git log lists the newest commit first: its value of each key wins.
      if (key !== undefined && !trailers.has(key)) trailers.set(key, line);
    }
  }
  const title = subjects[0] ?? `${found.workspace.name}`;
  const list =
    subjects.length > 1
      ? `\n\nSquashed ${subjects.length} commits of ${found.workspace.branch}:\n${[...subjects]
          .reverse()
          .map((subject) => `- ${subject}`)
          .join("\n")}`
      : "";
  const block = trailers.size > 0 ? `\n\n${[...trailers.values()].join("\n")}` : "";
  return `${title}${list}${block}\n`;
}
