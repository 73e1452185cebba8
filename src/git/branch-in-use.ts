import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { shellCommand } from "../hint/shell-quote.js";
import { commonGitDir } from "./facts.js";

/** A checkout in the middle of a rebase or bisect of a branch. */
export interface BranchInUse {
  /** The checkout (the main one, or a linked worktree). */
  path: string;
  what: "rebased" | "bisected";
}

/**
 * The checkout where `branch` is being rebased or bisected, or undefined. `git worktree list`
 * shows such a checkout as detached, yet the rebase or bisect ends by setting the branch from
 * the value it had when it started: a branch moved meanwhile makes `git rebase --continue` fail
 * with the user's rebased work left on a detached HEAD. git itself refuses to move it then
 * (`git branch -f`); an `update-ref` has to ask first. Read from the files git keeps in each
 * checkout's git folder (as git's own check does), running nothing there.
 */
export async function branchInUse(root: string, branch: string): Promise<BranchInUse | undefined> {
  const common = await commonGitDir(root);
  const linked = await readdir(path.join(common, "worktrees")).catch(() => [] as string[]);
  const checkouts = [
    { gitDir: common, path: root },
    ...(await Promise.all(
      linked.map(async (id) => {
        const gitDir = path.join(common, "worktrees", id);
        const link = (await readText(path.join(gitDir, "gitdir"))) ?? "";
        return { gitDir, path: link === "" ? gitDir : path.dirname(link) };
      }),
    )),
  ];
  for (const checkout of checkouts) {
    for (const state of ["rebase-merge", "rebase-apply"]) {
      const headName = await readText(path.join(checkout.gitDir, state, "head-name"));
      if (headName === `refs/heads/${branch}`) return { path: checkout.path, what: "rebased" };
    }
    const bisected = await readText(path.join(checkout.gitDir, "BISECT_START"));
    if (bisected === branch || bisected === `refs/heads/${branch}`) {
      return { path: checkout.path, what: "bisected" };
    }
  }
  return undefined;
}

/** How to end the rebase or bisect, as commands to paste. */
export function howToEnd(busy: BranchInUse): string {
  const git = (...args: string[]) => `\`${shellCommand(["git", "-C", busy.path, ...args])}\``;
  return busy.what === "rebased"
    ? `finish the rebase (${git("rebase", "--continue")}) or abort it (${git("rebase", "--abort")})`
    : `end the bisect (${git("bisect", "reset")})`;
}

/** A file's first line, or undefined when it cannot be read. */
async function readText(file: string): Promise<string | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  return text?.split("\n")[0]?.trim();
}
