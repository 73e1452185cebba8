import path from "node:path";
import { resolveAgentProgram } from "../agents/resolve-binary.js";
import { RunPaths } from "../executor/run-store.js";
import type { RunState } from "../executor/types.js";
import { git } from "../git/worktree.js";
import { findGitHubCli, type GhRun } from "../review/github.js";
import { runRedactor } from "../review/workspace-process.js";
import type { CheckItem } from "./check-item.js";

/** Whether `gh` can be asked about pull requests, or the one item that says why not. */
export type GitHubAccess =
  | { ready: true; gh: string; run: GhRun }
  | { ready: false; item: CheckItem };

/**
 * Finds `gh` once per `checks`: installed, an origin remote to look in, logged in. Each "no"
 * becomes an item that says how to enable the GitHub items instead of failing.
 */
export async function gitHubAccess(run: RunState): Promise<GitHubAccess> {
  const notAsked = (why: string): GitHubAccess => ({
    ready: false,
    item: { id: "github", level: "info", reason: `GitHub not asked: ${why}` },
  });
  if (resolveAgentProgram(undefined, undefined, "gh") === undefined) {
    return notAsked(
      "gh is not installed; install the GitHub CLI (e.g. apt-get install gh), then run gh auth login",
    );
  }
  const root = run.plan.repo.root;
  const origin = (await git(root, ["remote", "get-url", "origin"]).catch(() => "")).trim();
  if (origin === "")
    return notAsked("the repository has no origin remote to find pull requests on");
  const ghRun: GhRun = {
    cwd: root,
    logFile: path.join(new RunPaths(root, run.runId).dir, "github.log"),
    signal: new AbortController().signal,
    redactor: await runRedactor(run),
  };
  const cli = await findGitHubCli(ghRun);
  if (cli.status !== "ready") return notAsked("gh is not logged in; run gh auth login");
  return { ready: true, gh: cli.file, run: ghRun };
}
